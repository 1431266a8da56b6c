import { cpus } from 'node:os';
import postgres from 'postgres';
import type { ColdStart } from './cold-start.ts';
import { contractFloor } from './targets.ts';
import { type Workload, workloads } from './wrk.ts';

export interface Measured {
  target: string;
  kind: 'bunshop' | 'peer' | 'floor';
  workload: Workload;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  requests: number;
  runs: number[];
  peakRssMiB?: number[];
}

interface Input {
  settings: {
    connections: number;
    warmupSeconds: number;
    seconds: number;
    runs: number;
    coldStarts: number;
    /** Absent in runs made before the targets' runs alternated. */
    interleaved?: boolean;
    /** Absent in runs that measured the micro-benchmarks last, after the cold starts. */
    microFirst?: boolean;
    /** True when every bench database was analyzed after W2's warm-ups (absent in earlier runs). */
    analyzeAfterWarmup?: boolean;
  };
  quick: boolean;
  measured: Measured[];
  cold: ColdStart[];
  micro: string;
}

/** Who each bunshop target is compared with. */
const peerOf: Record<string, string> = {
  'bunshop monolith, Postgres': 'Moleculer, 1 process',
  'bunshop monolith, PGlite': 'Moleculer, 1 process',
  'bunshop 5 nodes, NATS': 'Moleculer, 5 processes, NATS',
};
const floorOf = (w: Workload) =>
  w === 'W0' ? 'floor: bare Bun.serve' : 'floor: Hono + postgres.js';

export async function report(o: Input): Promise<string> {
  const find = (target: string, w: Workload) =>
    o.measured.find((m) => m.target === target && m.workload === w);
  const ratio = (a?: Measured, b?: Measured) => (a && b ? (a.rps / b.rps).toFixed(2) : 'n/a');
  const lines = [
    '# bunshop benchmarks',
    '',
    `Produced by \`npm run bench${o.quick ? ' -- --quick' : ''}\` on ${new Date().toISOString().slice(0, 10)}; every number below comes from that one run.`,
    'Benchmarks report; they never fail CI. This machine is shared and noisy: compare ratios from the same run, not numbers across runs.',
    '',
    '## Machine and settings',
    '',
    ...(await machine()),
    `- Load: wrk, 1 thread, ${o.settings.connections} connections; per workload a ${o.settings.warmupSeconds} s warm-up run (discarded), then ${o.settings.runs} runs of ${o.settings.seconds} s; the median of the three is reported (req/s, p50 and p99 each their median). Errors are socket errors plus non-2xx answers, summed over the measured runs.`,
    o.settings.interleaved
      ? '- The targets compared with each other are up together, idle but for the one under load: first every one-process target (bunshop monolith on Postgres and on PGlite, Moleculer in one process, the floors), then the five-process ones. Per workload each target has its warm-up, then the measured runs go round the targets three times, each round starting one target later (A B C, B C A, C A B), each run after the machine is quiet again (and, for W2, after a Postgres checkpoint), so the runs a ratio compares were made within a minute or two of each other.'
      : '- The targets ran one after another (this run predates interleaving).',
    '- Every target gets a freshly seeded database: 10,000 customers with accounts and balances, 1,000 skus with ample stock (set-based SQL, tokens minted with the shared HS256 secret). W1 picks a random sku, W1a and W2 a random user token and sku per request.',
    ...(o.settings.analyzeAfterWarmup
      ? [
          "- After W2's warm-ups every target's database is analyzed, as autovacuum would soon after (the bench's Postgres may run without it), so no target keeps the plans its prepared statements made while its order tables were empty; `BENCH_ANALYZE=0` turns this off.",
        ]
      : []),
    '- Every target runs with per-request logging off (bunshop `LOG_LEVEL=warn`, Moleculer log level warn) and tracing off.',
    '',
    '## Commands',
    '',
    '- `npm run bench`: this whole page (it builds `dist/bunshop` with `npm run build`, i.e. `bun build --compile --minify --sourcemap --bytecode --format=esm --splitting`, and installs the peer with `npm ci --prefix bench/peers/moleculer`); `npm run bench -- --quick` for a few seconds per case; `--only=<part of a target name>` for some targets (parts joined by `|`; no RESULTS.md then).',
    "- `bun bench/micro/transport.ts [--quick]`: the micro-benchmarks alone. `bun bench/micro/nats-layers.ts`: a NATS call's CPU layer by layer. `bun bench/tracing-overhead.ts`: tracing on against off. `bun bench/pair.ts <A> <B> W1`: CPU per request of two builds (or `floor`, `contract-floor`) side by side; `bun bench/rate-pair.ts <A> <B> W2`: their orders per second turn by turn, with Postgres's WAL syncs per order.",
    '- `bun bench/run.ts --report=bench/results/<run>.json`: this page again from a saved run.',
    '- Where the time goes, and how to profile it: bench/README.md.',
    '',
  ];
  for (const w of Object.keys(workloads) as Workload[]) {
    const rows = o.measured.filter((m) => m.workload === w);
    if (!rows.length) continue;
    lines.push(
      `## ${w}: \`${workloads[w]}\``,
      '',
      '| target | req/s | p50 ms | p99 ms | errors | vs peer | vs floor |',
      '|---|---|---|---|---|---|---|',
    );
    for (const m of rows) {
      const vsPeer = m.kind === 'bunshop' ? ratio(m, find(peerOf[m.target] ?? '', w)) : '';
      const vsFloor = m.kind === 'bunshop' ? ratio(m, find(floorOf(w), w)) : '';
      lines.push(
        `| ${m.target} | ${m.rps.toFixed(0)} | ${m.p50Ms.toFixed(2)} | ${m.p99Ms.toFixed(2)} | ${m.errors} | ${vsPeer} | ${vsFloor} |`,
      );
    }
    lines.push('');
  }
  lines.push(
    '## Peak resident memory under W1 (VmHWM, MiB)',
    '',
    '| target | per process |',
    '|---|---|',
  );
  for (const m of o.measured.filter((x) => x.workload === 'W1' && x.peakRssMiB)) {
    lines.push(`| ${m.target} | ${m.peakRssMiB!.map((r) => r.toFixed(0)).join(', ')} |`);
  }
  lines.push(
    '',
    '## Cold start: spawn to the first 200',
    '',
    '| what | probe | median ms | runs ms |',
    '|---|---|---|---|',
  );
  for (const c of o.cold) {
    lines.push(
      `| ${c.name} | \`${c.path}\` | ${c.medianMs.toFixed(0)} | ${c.runs.map((r) => r.toFixed(0)).join(', ')} |`,
    );
  }
  lines.push(
    '',
    '## Micro-benchmarks (`bun bench/micro/transport.ts`)',
    '',
    o.settings.microFirst
      ? 'Run first, before any target started.'
      : 'Run last, after the cold starts.',
    '',
    o.micro.trim() || '(not run)',
    '',
  );
  lines.push(...targetsTable(find, o.cold, o.settings.interleaved === true));
  return `${lines.join('\n')}\n`;
}

function targetsTable(
  find: (t: string, w: Workload) => Measured | undefined,
  cold: ColdStart[],
  interleaved: boolean,
): string[] {
  const mono = 'bunshop monolith, Postgres';
  const five = 'bunshop 5 nodes, NATS';
  const hono = 'floor: Hono + postgres.js';
  const mol1 = 'Moleculer, 1 process';
  const mol5 = 'Moleculer, 5 processes, NATS';
  // [label, bunshop target, compared with, workload, lowest ratio wanted]
  const wanted: [string, string, string, Workload, number][] = [
    ['W1 monolith (Postgres) / Hono floor', mono, hono, 'W1', 0.85],
    ['W1 monolith / Moleculer 1 process', mono, mol1, 'W1', 1.8],
    ['W2 monolith / Moleculer 1 process', mono, mol1, 'W2', 1.3],
    ['W1 five nodes / Moleculer 5 processes', five, mol5, 'W1', 2],
    ['W2 five nodes / Moleculer 5 processes', five, mol5, 'W2', 2],
  ];
  // Interleaved runs pair up: run i of each target was made in the same round.
  const rounds = (a: Measured, b: Measured) =>
    interleaved ? a.runs.map((r, i) => (r / (b.runs[i] ?? Number.NaN)).toFixed(2)).join(', ') : '';
  const lines = [
    '## Targets of issue 5',
    '',
    '| target | measured | round by round | wanted | met |',
    '|---|---|---|---|---|',
  ];
  for (const [label, ours, theirs, w, min] of wanted) {
    const a = find(ours, w);
    const b = find(theirs, w);
    const ratio = a && b ? a.rps / b.rps : undefined;
    lines.push(
      `| ${label} | ${ratio === undefined ? 'n/a' : ratio.toFixed(2)} | ${a && b ? rounds(a, b) : ''} | >= ${min} | ${ratio !== undefined && ratio >= min ? 'yes' : 'no'} |`,
    );
  }
  // Not a target: how far the contract alone, and bunshop's structure on top, take W1 below the floor.
  const contract = find(contractFloor, 'W1');
  const plain = find(hono, 'W1');
  const monoW1 = find(mono, 'W1');
  if (contract && plain && monoW1)
    lines.push(
      `| (no target) W1 Hono floor + the per-request contract / Hono floor | ${(contract.rps / plain.rps).toFixed(2)} | ${rounds(contract, plain)} | | |`,
      `| (no target) W1 monolith / Hono floor + the per-request contract | ${(monoW1.rps / contract.rps).toFixed(2)} | ${rounds(monoW1, contract)} | | |`,
    );
  const pg = cold.find((c) => c.name.includes('Postgres'));
  if (pg)
    lines.push(
      `| cold start, binary on Postgres | ${pg.medianMs.toFixed(0)} ms | | < 100 ms | ${pg.medianMs < 100 ? 'yes' : 'no'} |`,
    );
  const rss = find(mono, 'W1')?.peakRssMiB?.[0];
  if (rss)
    lines.push(
      `| monolith RSS under W1 | ${rss.toFixed(0)} MiB | | < 100 MiB | ${rss < 100 ? 'yes' : 'no'} |`,
    );
  lines.push(
    '',
    'The transport targets (local < 1 µs overhead, NATS <= 1.25x raw) are in the micro-benchmark table above.',
    '',
    interleaved
      ? "This machine's speed drifts by 20 % and more over minutes (bench/README.md shows by how much); interleaving the targets' runs keeps most of that out of the ratios, but a ratio within about 10 % of its threshold, either way, is still not conclusive. bench/README.md has per-request CPU measurements, which are steadier."
      : "The targets ran one after another over about 25 minutes, and this machine's speed drifts in that time (bench/README.md shows by how much). A ratio within about 15 % of its threshold, either way, is not conclusive. bench/README.md has per-request CPU measurements, which are steadier.",
  );
  return lines;
}

async function machine(): Promise<string[]> {
  const cpu = cpus();
  const version = (cmd: string[]) =>
    Bun.spawnSync(cmd, { stderr: 'pipe' }).stdout.toString().trim().split('\n')[0] ?? '';
  const sql = postgres(process.env.BENCH_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test', {
    max: 1,
  });
  const [{ version: pg }] = (await sql`select version()`) as unknown as [{ version: string }];
  await sql.end();
  return [
    `- ${cpu.length} cores, ${cpu[0]?.model ?? 'unknown CPU'}; ${Math.round(Number(Bun.spawnSync(['sh', '-c', "awk '/MemTotal/ {print $2}' /proc/meminfo"]).stdout.toString()) / 1024 / 1024)} GiB`,
    `- Bun ${Bun.version} (bunshop, floors), ${version(['node', '--version'])} on PATH; the peer's Node is in bench/peers/moleculer/README.md`,
    `- ${pg.split(' on ')[0]}; ${version(['nats-server', '--version']) || 'nats-server'}; ${version(['wrk', '--version']).split(' [')[0]}`,
  ];
}
