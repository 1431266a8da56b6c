/**
 * `bun bench/rate-pair.ts <binary A> <binary B> [W1|W1a|W2] [seconds] [rounds]`: which of two
 * builds serves more requests per second, where CPU is not what bounds them (`bench/pair.ts`
 * compares CPU). Under W2 the bound is Postgres's WAL flush: each commit that waits for one holds
 * its connection for a disk sync (bench/README.md, W2).
 *
 * Each server runs alone on its own seeded database; the rounds alternate which goes first, each
 * run after a checkpoint and a quiet machine, after one warm-up each and an ANALYZE (as
 * `npm run bench` does). Prints req/s, and the WAL syncs and records Postgres made per request
 * (`pg_stat_wal`: the whole server's, so nothing else should run). `floor` runs the Hono +
 * postgres.js floor. Put each binary first once: the machine drifts by 20 % within minutes.
 *
 *   bun bench/rate-pair.ts dist/bunshop-before dist/bunshop W2 8 6
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { label, spawnBuild } from './support/builds.ts';
import { median, settle } from './support/load.ts';
import { stopAll, until200 } from './support/processes.ts';
import { analyze, seedPostgres, tokens } from './support/seed.ts';
import { ensureWrk, type Workload, workloadPaths, writeScripts, wrk } from './support/wrk.ts';

const [a, b, workload = 'W2', seconds = '8', rounds = '6'] = process.argv.slice(2);
if (!a || !b || a === b || !['W1', 'W1a', 'W2'].includes(workload)) {
  console.error(
    'usage: bun bench/rate-pair.ts <binary A> <binary B> [W1|W1a|W2] [seconds] [rounds]',
  );
  process.exit(2);
}
const w = workload as Workload;
const adminUrl = process.env.BENCH_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test';
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
const wal = async () =>
  (
    await admin`select wal_sync::float8 as syncs, wal_records::float8 as records from pg_stat_wal`
  )[0]!;

ensureWrk();
const servers: (ReturnType<typeof spawnBuild> & {
  db: Awaited<ReturnType<typeof seedPostgres>>;
})[] = [];
try {
  for (const bin of [a, b]) {
    const db = await seedPostgres(adminUrl);
    const server = { ...spawnBuild(bin, db.url), db };
    servers.push(server);
    // The floor has no /health/ready; a read answers on both once the database is there.
    await until200(`${server.url}/inventory/items/SKU-0001`, server.proc);
  }
  const scripts = writeScripts(join(tmpdir(), 'bunshop-bench-rate-pair'), await tokens());
  const load = (s: (typeof servers)[number], secs: number) =>
    wrk({ url: s.url, path: workloadPaths[w], script: scripts[w], connections: 32, seconds: secs });
  for (const s of servers) await load(s, 5);
  await analyze(servers.map((s) => s.db.url));
  const rates = servers.map(() => [] as number[]);
  for (let r = 0; r < Number(rounds); r++) {
    const order = r % 2 ? [1, 0] : [0, 1];
    const line: string[] = [];
    for (const i of order) {
      await admin`checkpoint`;
      await settle();
      const before = await wal();
      const result = await load(servers[i]!, Number(seconds));
      const after = await wal();
      const per = (k: 'syncs' | 'records') => ((after[k] - before[k]) / result.requests).toFixed(2);
      rates[i]!.push(result.rps);
      line[i] =
        `${label(servers[i]!.bin)} ${Math.round(result.rps)} req/s, ${result.errors} errors, ` +
        `WAL syncs ${per('syncs')} records ${per('records')} per request`;
    }
    console.log(`${line.join(' | ')}  B/A ${(rates[1]![r]! / rates[0]![r]!).toFixed(3)}`);
  }
  const ratios = rates[0]!.map((x, r) => rates[1]![r]! / x).sort((x, y) => x - y);
  console.log(
    `${label(b)} / ${label(a)}, ${w} req/s, medians ${Math.round(median(rates[1]!))} / ` +
      `${Math.round(median(rates[0]!))}; ratio per round, median of ${ratios.length}: ` +
      `${median(ratios).toFixed(3)} (${ratios.map((x) => x.toFixed(3)).join(' ')})`,
  );
} finally {
  await admin.end();
  await stopAll(servers.map((s) => s.proc));
  for (const s of servers) await s.db.drop();
}
