import { readFileSync } from 'node:fs';
import type { Subprocess } from 'bun';

/** A process the bench started, and how to tell it is ready. */
export interface Started {
  proc: Subprocess;
  url: string;
}

export function freePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/** Spawns a server with its output discarded (no pipe can fill and stall it). */
export function spawnServer(
  command: string[],
  env: Record<string, string>,
  cwd?: string,
): Subprocess {
  return Bun.spawn(command, {
    env: { ...process.env, ...env },
    cwd,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: process.env.BENCH_VERBOSE ? 'inherit' : 'ignore',
  });
}

/** Polls `url` until it answers 200; returns the milliseconds from `since`. */
export async function until200(
  url: string,
  proc: Subprocess,
  since = performance.now(),
  timeoutMs = 60_000,
  everyMs = 5,
): Promise<number> {
  const deadline = since + timeoutMs;
  for (;;) {
    const res = await fetch(url).catch(() => undefined);
    if (res?.status === 200) return performance.now() - since;
    if (proc.exitCode !== null) throw new Error(`${url}: the process exited (${proc.exitCode})`);
    if (performance.now() > deadline) throw new Error(`${url} was not ready in ${timeoutMs} ms`);
    await Bun.sleep(everyMs);
  }
}

/** Peak resident memory (VmHWM) of a process, in MiB. */
export async function peakRssMiB(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`)
    .text()
    .catch(() => '');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

export async function stopAll(procs: readonly Subprocess[]): Promise<void> {
  for (const p of procs) p.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const p of procs) p.kill('SIGKILL');
  }, 10_000);
  await Promise.all(procs.map((p) => p.exited));
  clearTimeout(timer);
}

/** utime + stime of a process and its threads, in clock ticks (USER_HZ, 100 on Linux); 0 once it is gone. */
export function cpuTicks(pid: number | string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}
