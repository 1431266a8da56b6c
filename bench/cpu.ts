/**
 * `bun bench/cpu.ts <target name part> [W0|W1|W1a|W2] [seconds]`: CPU per request, by process.
 *
 * Starts one target as `npm run bench` does (BENCH_BIN picks the binary), warms it up for 3 s
 * (analyzing its database after a W2 warm-up, as the bench does), then reads utime+stime of the
 * target's processes, every Postgres backend and nats-server from /proc before and after one
 * wrk run. Steadier than req/s on this noisy VM: Postgres's
 * own µs per request is a gauge of the machine's speed at that moment. Linux only.
 *
 *   bun bench/cpu.ts "monolith, Postgres" W1 6
 */
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuTicks } from './support/processes.ts';
import { analyze, tokens } from './support/seed.ts';
import { targets } from './support/targets.ts';
import { ensureWrk, type Workload, workloadPaths, writeScripts, wrk } from './support/wrk.ts';

const [name = '', workload = 'W1', seconds = '6'] = process.argv.slice(2);
const target = targets.find((t) => t.name.includes(name));
if (!name || !target) {
  console.error(`name a target: ${targets.map((t) => `"${t.name}"`).join(', ')}`);
  process.exit(2);
}
const w = workload as Workload;
const clockTicks = 100; // USER_HZ on Linux

/** Ticks of every Postgres and nats-server process, summed by program. */
function servers(): Map<string, number> {
  const byProgram = new Map<string, number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      const program = comm.startsWith('postgres') ? 'postgres' : comm;
      if (program !== 'postgres' && program !== 'nats-server') continue;
      byProgram.set(program, (byProgram.get(program) ?? 0) + cpuTicks(pid));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return byProgram;
}

ensureWrk();
const running = await target.start(
  process.env.BENCH_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test',
);
try {
  const scripts = writeScripts(join(tmpdir(), 'bunshop-bench-cpu'), await tokens());
  const load = (s: number) =>
    wrk({
      url: running.url,
      path: workloadPaths[w],
      script: scripts[w],
      connections: 32,
      seconds: s,
    });
  await load(3);
  // As `npm run bench` does: W2's tables, grown from empty, get plans for their size.
  if (w === 'W2' && running.databaseUrl) await analyze([running.databaseUrl]);
  const before = running.procs.map((p) => cpuTicks(p.pid));
  const serversBefore = servers();
  const result = await load(Number(seconds));
  const after = running.procs.map((p) => cpuTicks(p.pid));
  const serversAfter = servers();
  const perRequest = (t: number) => `${Math.round(((t / clockTicks) * 1e6) / result.requests)} µs`;
  console.log(`${target.name}, ${w}: ${Math.round(result.rps)} req/s, ${result.errors} errors`);
  running.procs.forEach((p, i) => {
    console.log(`  process ${i} (pid ${p.pid}): ${perRequest(after[i]! - before[i]!)}`);
  });
  for (const [program, t] of serversAfter) {
    console.log(`  ${program}: ${perRequest(t - (serversBefore.get(program) ?? 0))}`);
  }
} finally {
  await running.stop();
}
