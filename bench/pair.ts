/**
 * `bun bench/pair.ts <binary A> <binary B> [W0|W1|W1a|W2] [seconds] [rounds]`: which of two
 * builds spends less CPU per request, measured so that the machine's drift cancels out.
 *
 * Both servers run at once on one seeded database, pinned to core 0; Postgres and one wrk per
 * server share core 1. Each round reads both servers' utime+stime from /proc around the same
 * wrk runs, so a slow minute slows both alike. Run-to-run comparisons on this VM drift by 20 %;
 * an A/A pair measured this way stays within 2-3 %. Put each binary first once: the first
 * server measured 1-3 % ahead. `floor` for either binary runs the Hono + postgres.js floor,
 * `contract-floor` that floor with the contract's per-request work (W1 only).
 * Linux only; it changes the CPU affinity of the Postgres backends and restores it.
 *
 *   bun bench/pair.ts dist/bunshop-before dist/bunshop W1 4 10
 */
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { label, spawnBuild } from './support/builds.ts';
import { cpuTicks, stopAll, until200 } from './support/processes.ts';
import { seedPostgres, tokens } from './support/seed.ts';
import { ensureWrk, type Workload, workloadPaths, writeScripts, wrk } from './support/wrk.ts';

const [a, b, workload = 'W1', seconds = '4', rounds = '10'] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: bun bench/pair.ts <binary A> <binary B> [W0|W1|W1a|W2] [seconds] [rounds]');
  process.exit(2);
}
const w = workload as Workload;

function postgresPids(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').startsWith('postgres');
      } catch {
        return false;
      }
    })
    .map(Number);
}

const pin = (mask: string, pid: number) =>
  Bun.spawnSync(['taskset', '-a', '-p', mask, String(pid)], { stdout: 'ignore', stderr: 'ignore' });

if ([a, b].includes('contract-floor') && w !== 'W1') {
  console.error('contract-floor serves W1 only');
  process.exit(2);
}
ensureWrk();
const db = await seedPostgres(
  process.env.BENCH_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test',
);
const servers = [a, b].map((bin) => spawnBuild(bin, db.url));
try {
  // The floor has no /health/ready; a read answers on both once the database is there.
  for (const s of servers) await until200(`${s.url}/inventory/items/SKU-0001`, s.proc);
  const scripts = writeScripts(join(tmpdir(), 'bunshop-bench-pair'), await tokens());
  for (const s of servers) pin('1', s.proc.pid);
  for (const pid of postgresPids()) pin('2', pid);
  const load = (secs: number) =>
    Promise.all(
      servers.map((s) =>
        wrk({
          url: s.url,
          path: workloadPaths[w],
          script: scripts[w],
          connections: 32,
          seconds: secs,
        }),
      ),
    );
  await load(3);
  const ratios: number[] = [];
  for (let r = 0; r < Number(rounds); r++) {
    const before = servers.map((s) => cpuTicks(s.proc.pid));
    const results = await load(Number(seconds));
    const us = servers.map(
      (s, i) => ((cpuTicks(s.proc.pid) - before[i]!) * 1e4) / results[i]!.requests,
    );
    ratios.push(us[1]! / us[0]!);
    console.log(
      servers
        .map(
          (s, i) => `${label(s.bin)} ${Math.round(results[i]!.rps)} req/s ${us[i]!.toFixed(1)} µs`,
        )
        .join(' | '),
      `  B/A ${(us[1]! / us[0]!).toFixed(3)}`,
    );
  }
  const sorted = [...ratios].sort((x, y) => x - y);
  console.log(
    `${label(b)} / ${label(a)}, CPU per ${w} request, median of ${sorted.length} rounds: ` +
      `${sorted[sorted.length >> 1]!.toFixed(3)} (${sorted.map((x) => x.toFixed(3)).join(' ')})`,
  );
} finally {
  for (const pid of postgresPids()) pin('ffffffff', pid);
  await stopAll(servers.map((s) => s.proc));
  await db.drop();
}
