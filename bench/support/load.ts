/** A closed-loop HTTP load: `connections` loops, each sending its next request when the last answered. */
export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

export async function closedLoop(o: {
  connections: number;
  seconds: number;
  request: (i: number) => Promise<Response>;
  /** A response that counts as success. */
  ok?: (res: Response) => boolean;
}): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const started = performance.now();
  const until = started + o.seconds * 1000;
  const ok = o.ok ?? ((res: Response) => res.status < 400);
  await Promise.all(
    Array.from({ length: o.connections }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        try {
          const res = await o.request(sent++);
          await res.arrayBuffer();
          if (!ok(res)) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    requests: latencies.length,
    errors,
    seconds,
    rps: latencies.length / seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Busy share of all cores over `ms` (waiting on I/O included), from /proc/stat. */
async function busyShare(ms: number): Promise<number> {
  const read = async () => {
    const f = (await Bun.file('/proc/stat').text()).split('\n')[0]!.trim().split(/\s+/).slice(1);
    const n = f.map(Number);
    // iowait counts as busy: after a W2 run Postgres writes back for a while, and a cold start
    // or a micro-benchmark measured then was 20-40 % slower while the cores looked idle.
    const idle = n[3]!;
    return { idle, total: n.reduce((a, b) => a + b, 0) };
  };
  const a = await read();
  await Bun.sleep(ms);
  const b = await read();
  return 1 - (b.idle - a.idle) / Math.max(1, b.total - a.total);
}

/**
 * Waits until the machine is quiet: with every target up, one target's tail of work (sagas
 * finishing, outbox relays, Postgres writing back) must not land in the next one's run.
 */
export async function settle(maxMs = 15_000, quietShare = 0.1): Promise<void> {
  const until = performance.now() + maxMs;
  let busy = 1;
  while (performance.now() < until) {
    busy = await busyShare(400);
    if (busy < quietShare) return;
  }
  console.log(
    `  (not quiet after ${maxMs / 1000} s: ${(busy * 100).toFixed(0)} % busy; measuring anyway)`,
  );
}
