/**
 * `npm run bench [-- --quick] [--only=<name part>] [--report=<results json>]`: every target, every workload, in one run,
 * one thing at a time; a warm-up run discarded, then the median of three measured runs.
 * Writes bench/RESULTS.md and bench/results/<time>.json. Needs Postgres and NATS running
 * (BENCH_POSTGRES_URL, default postgres://root@127.0.0.1:5432/test) and wrk.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { coldStarts } from './support/cold-start.ts';
import { median } from './support/load.ts';
import { peakRssMiB } from './support/processes.ts';
import { type Measured, report } from './support/report.ts';
import { tokens } from './support/seed.ts';
import { binary, root, targets } from './support/targets.ts';
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
const settings = {
  connections: 32,
  warmupSeconds: quick ? 2 : 5,
  seconds: quick ? 3 : 10,
  runs: 3,
  coldStarts: quick ? 3 : 10,
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

for (const target of targets.filter((t) => !only || t.name.includes(only))) {
  console.log(`\n=== ${target.name}`);
  const running = await target.start(adminUrl);
  try {
    for (const w of (['W0', 'W1', 'W1a', 'W2'] as const).filter((x) =>
      target.workloads.includes(x),
    )) {
      const path =
        w === 'W0' ? '/health/live' : w === 'W1a' ? '/users/me' : w === 'W2' ? '/orders' : '/';
      const run = (seconds: number) =>
        wrk({
          url: running.url,
          path,
          script: scripts[w],
          connections: settings.connections,
          seconds,
        });
      await run(settings.warmupSeconds);
      const runs = [];
      for (let i = 0; i < settings.runs; i++) runs.push(await run(settings.seconds));
      const entry: Measured = {
        target: target.name,
        kind: target.kind,
        workload: w as Workload,
        rps: median(runs.map((r) => r.rps)),
        p50Ms: median(runs.map((r) => r.p50Ms)),
        p99Ms: median(runs.map((r) => r.p99Ms)),
        errors: runs.reduce((n, r) => n + r.errors, 0),
        requests: runs.reduce((n, r) => n + r.requests, 0),
        runs: runs.map((r) => Math.round(r.rps)),
      };
      if (w === 'W1') {
        entry.peakRssMiB = await Promise.all(running.procs.map((p) => peakRssMiB(p.pid)));
      }
      measured.push(entry);
      console.log(
        `${w.padEnd(4)} ${workloads[w].padEnd(40)} ${entry.rps.toFixed(0).padStart(7)} req/s  p50 ${entry.p50Ms.toFixed(2)} ms  p99 ${entry.p99Ms.toFixed(2)} ms  errors ${entry.errors}  runs ${entry.runs.join(' ')}`,
      );
    }
  } finally {
    await running.stop();
  }
}

const cold = only ? [] : await coldStarts(adminUrl, settings.coldStarts);
for (const c of cold)
  console.log(
    `cold start ${c.name}: median ${c.medianMs.toFixed(0)} ms (${c.runs.map((r) => r.toFixed(0)).join(', ')})`,
  );
const micro = only
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

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(
  join(root, 'bench', 'results', `${stamp}.json`),
  JSON.stringify({ settings, quick, binary, measured, cold, micro }, null, 2),
);
if (!only) {
  writeFileSync(
    join(root, 'bench', 'RESULTS.md'),
    await report({ settings, quick, measured, cold, micro }),
  );
  console.log('\nwrote bench/RESULTS.md');
}
