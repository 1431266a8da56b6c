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
