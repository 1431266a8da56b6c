/**
 * `npm run bench [-- --quick] [--only=<name part>[|<name part>...]] [--workload=W0|W1|W1a|W2] [--report=<results json>]`:
 * every target, every workload, in one run,
 * one load at a time; a warm-up run discarded, then the median of three measured runs, the
 * targets' runs alternating.
 * Writes bench/RESULTS.md and bench/results/<time>.json. Needs Postgres and NATS running
 * (BENCH_POSTGRES_URL, default postgres://root@127.0.0.1:5432/test) and wrk.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { coldStarts } from './support/cold-start.ts';
import { median, settle } from './support/load.ts';
import { peakRssMiB } from './support/processes.ts';
import { type Measured, report } from './support/report.ts';
import { analyze, tokens } from './support/seed.ts';
import { binary, type Running, root, type Target, targets } from './support/targets.ts';
import { ensureWrk, type Workload, workloads, writeScripts, wrk } from './support/wrk.ts';

// `--report=<results json>`: renders RESULTS.md from a saved run and measures nothing.
const saved = process.argv.find((a) => a.startsWith('--report='))?.slice('--report='.length);
if (saved) {
  const run = JSON.parse(readFileSync(saved, 'utf8'));
  writeFileSync(join(import.meta.dir, 'RESULTS.md'), await report(run));
  console.log(`wrote bench/RESULTS.md from ${saved}`);
  process.exit(0);
}
const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const onlyWorkload = process.argv
  .find((a) => a.startsWith('--workload='))
  ?.slice('--workload='.length);
const settings = {
  connections: 32,
  warmupSeconds: quick ? 2 : 5,
  seconds: quick ? 3 : 10,
  runs: 3,
  coldStarts: quick ? 3 : 10,
  interleaved: true,
  microFirst: true,
  // ANALYZE after W2's warm-ups, as autovacuum would soon after: this machine's Postgres runs with
  // autovacuum off (bench/README.md, W2). BENCH_ANALYZE=0 measures without it.
  analyzeAfterWarmup: process.env.BENCH_ANALYZE !== '0',
};
const adminUrl = process.env.BENCH_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test';

ensureWrk();
// The peer has its own dependencies (Moleculer), kept out of bunshop's package.json.
if (!existsSync(join(root, 'bench', 'peers', 'moleculer', 'node_modules'))) {
  const install = Bun.spawnSync(
    ['npm', 'ci', '--no-audit', '--no-fund', '--prefix', 'bench/peers/moleculer'],
    {
      cwd: root,
      stdout: 'inherit',
      stderr: 'inherit',
    },
  );
  if (install.exitCode !== 0) throw new Error('npm ci for the Moleculer peer failed');
}
if (!process.env.BENCH_BIN) {
  const build = Bun.spawnSync(['npm', 'run', '--silent', 'build'], {
    cwd: root,
    stdout: 'ignore',
    stderr: 'inherit',
  });
  if (build.exitCode !== 0) throw new Error('npm run build failed');
}
const scripts = writeScripts(join(root, '.tmp', 'bench'), await tokens());
const measured: Measured[] = [];

// The micro-benchmarks first, on a machine nothing has loaded yet: run after the cold starts, the
// load those left behind (Postgres writing back after W2 as well) put 20-50 % on their rows.
if (!only && !onlyWorkload) await settle();
const micro =
  only || onlyWorkload
    ? ''
    : Bun.spawnSync(
        [
          process.execPath,
          join(root, 'bench', 'micro', 'transport.ts'),
          ...(quick ? ['--quick'] : []),
        ],
        {
          cwd: root,
          stderr: 'inherit',
        },
      ).stdout.toString();

// The targets compared with each other are up together (one group holds every one-process
// target, the other the five-process ones: both at once would pass Postgres's 100 connections),
// idle but for the one under load. Per workload their measured runs alternate (A B C B C A ...):
// a ratio compares runs made within a minute or two of each other, not one target at minute 2
// with another at minute 20 (this machine drifts).
// Name parts joined by `|` (target names hold commas): `--only='monolith, Postgres|Hono'` picks
// the monolith and both Hono floors. Empty parts are ignored.
const onlyParts = (only ?? '').split('|').filter(Boolean);
const chosen = targets.filter(
  (t) => onlyParts.length === 0 || onlyParts.some((part) => t.name.includes(part)),
);
const pathOf: Record<Workload, string> = {
  W0: '/health/live',
  W1: '/',
  W1a: '/users/me',
  W2: '/orders',
};
const chosenWorkloads = (['W0', 'W1', 'W1a', 'W2'] as const).filter(
  (x) => !onlyWorkload || x === onlyWorkload,
);
for (const group of ['one process', 'five processes'] as const) {
  const members = chosen.filter((t) => t.group === group);
  const running = new Map<Target, Running>();
  try {
    for (const target of members) {
      console.log(`starting ${target.name}`);
      running.set(target, await target.start(adminUrl));
    }
    for (const w of chosenWorkloads) {
      const eligible = members.filter((t) => t.workloads.includes(w));
      if (eligible.length) measured.push(...(await interleaved(w, eligible, running)));
    }
  } finally {
    for (const r of running.values()) await r.stop();
  }
}

/** Asks Postgres to write its dirty pages back; the bench's role may lack the right (then it waits). */
async function checkpoint(): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql`checkpoint`;
  } catch {
    await Bun.sleep(2_000);
  } finally {
    await sql.end();
  }
}

/** One workload on each target: its warm-up, then the measured runs going round the targets. */
async function interleaved(
  w: Workload,
  eligible: Target[],
  running: Map<Target, Running>,
): Promise<Measured[]> {
  const run = async (t: Target, seconds: number) => {
    // The last run's dirty pages are written now, not by the checkpointer during the next one.
    if (w === 'W2') await checkpoint();
    // One target's tail of work (sagas finishing, relays, Postgres writing back) stays out of the next run.
    await settle();
    return wrk({
      url: running.get(t)!.url,
      path: pathOf[w],
      script: scripts[w],
      connections: settings.connections,
      seconds,
    });
  };
  console.log(`\n=== ${w} ${workloads[w]}`);
  for (const t of eligible) await run(t, settings.warmupSeconds);
  if (w === 'W2' && settings.analyzeAfterWarmup) {
    await analyze(eligible.flatMap((t) => running.get(t)!.databaseUrl ?? []));
  }
  const runs = new Map<Target, Awaited<ReturnType<typeof run>>[]>(eligible.map((t) => [t, []]));
  // Each round starts one target later (A B C, B C A, C A B): no target always follows the same one.
  for (let i = 0; i < settings.runs; i++) {
    const k = i % eligible.length;
    for (const t of [...eligible.slice(k), ...eligible.slice(0, k)]) {
      runs.get(t)!.push(await run(t, settings.seconds));
    }
  }
  const out: Measured[] = [];
  for (const t of eligible) {
    const rs = runs.get(t)!;
    const entry: Measured = {
      target: t.name,
      kind: t.kind,
      workload: w,
      rps: median(rs.map((r) => r.rps)),
      p50Ms: median(rs.map((r) => r.p50Ms)),
      p99Ms: median(rs.map((r) => r.p99Ms)),
      errors: rs.reduce((n, r) => n + r.errors, 0),
      requests: rs.reduce((n, r) => n + r.requests, 0),
      runs: rs.map((r) => Math.round(r.rps)),
    };
    // VmHWM is the peak so far: W0 and W1 have run on this process, nothing heavier.
    if (w === 'W1') {
      entry.peakRssMiB = await Promise.all(running.get(t)!.procs.map((p) => peakRssMiB(p.pid)));
    }
    out.push(entry);
    console.log(
      `${t.name.padEnd(34)} ${entry.rps.toFixed(0).padStart(7)} req/s  p50 ${entry.p50Ms.toFixed(2)} ms  p99 ${entry.p99Ms.toFixed(2)} ms  errors ${entry.errors}  runs ${entry.runs.join(' ')}`,
    );
  }
  return out;
}

// Quiet first: the last target's stop (and Postgres writing back) must not slow these down.
if (!only && !onlyWorkload) await settle();
const cold = only || onlyWorkload ? [] : await coldStarts(adminUrl, settings.coldStarts);
for (const c of cold)
  console.log(
    `cold start ${c.name}: median ${c.medianMs.toFixed(0)} ms (${c.runs.map((r) => r.toFixed(0)).join(', ')})`,
  );
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(
  join(root, 'bench', 'results', `${stamp}.json`),
  JSON.stringify({ settings, quick, binary, measured, cold, micro }, null, 2),
);
if (!only && !onlyWorkload) {
  writeFileSync(
    join(root, 'bench', 'RESULTS.md'),
    await report({ settings, quick, measured, cold, micro }),
  );
  console.log('\nwrote bench/RESULTS.md');
}
