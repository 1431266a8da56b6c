/**
 * Micro-benchmarks of the kernel's call path (issue 5), with the middleware chain node.ts builds
 * (deadline, observeCalls on real metrics, resilience) and tracing off as in production:
 *
 * - local: `router.client(contract).echo()` to a hosted module against a plain async function;
 * - NATS: the same call to a module served by `hostModules` on the same connection (so it goes
 *   remote) against a raw `nc.request()` to a plain subscription echoing the same JSON,
 *   sequential and with 64 in flight (batches of 64 under Promise.all).
 *
 * Targets (issue 5): local, under 1 µs of overhead per call over the plain function; NATS, a
 * round trip within 1.25 times the raw nats.js request/reply.
 *
 *   bun bench/micro/transport.ts [--quick] [--only=local|nats]
 *   NATS_URL defaults to nats://127.0.0.1:4222; each run serves under a prefix of its own.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { context } from '@opentelemetry/api';
import { measure } from 'mitata';
import { systemClock } from '../../src/clock.ts';
import { withRequestId } from '../../src/observability/scope.ts';
import { Dispatcher } from '../../src/transport/dispatcher.ts';
import { LocalTransport } from '../../src/transport/router.ts';
import { benchKernel, routerFor } from '../support/kernel.ts';
import { benchCallContext, echoContract, echoOverNats, echoService, natsUrl } from './echo.ts';

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
/** Alternating rounds per pair (the median of their medians is reported), and time per sample set. */
const rounds = quick ? 1 : 3;
const opts = { min_cpu_time: (quick ? 150 : 1_000) * 1e6 };
const inFlight = 64;
const { log, metrics } = await benchKernel();

const ctx = benchCallContext();
const { requestId } = ctx;
const input = { n: 1 };

type Row = { name: string; ns: number; p99: number };

/** Median of the p50s (and p99s) of `rounds` mitata runs per function, run alternately. */
async function pair(
  names: [string, string],
  fns: [() => unknown, () => unknown],
  per = 1,
): Promise<[Row, Row]> {
  const p50: number[][] = [[], []];
  const p99: number[][] = [[], []];
  for (let r = 0; r < rounds; r++) {
    for (const i of [0, 1] as const) {
      const s = await measure(fns[i], opts);
      p50[i]!.push(s.p50 / per);
      p99[i]!.push(s.p99 / per);
    }
  }
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
  return [0, 1].map((i) => ({ name: names[i]!, ns: mid(p50[i]!), p99: mid(p99[i]!) })) as [
    Row,
    Row,
  ];
}

const batch = (call: () => Promise<unknown>) => () =>
  Promise.all(Array.from({ length: inFlight }, call));

/** A hosted module through the router, in a request's context as the gateway sets it. */
async function benchLocal(): Promise<[Row, Row]> {
  const dispatcher = new Dispatcher(log, metrics, systemClock);
  dispatcher.host(echoContract, echoService);
  const transport = new LocalTransport(dispatcher);
  const local = routerFor(dispatcher, transport, metrics, log).client(echoContract);
  const plainEcho = async (i: { n: number }) => ({ n: i.n });
  console.error('measuring the local transport…');
  return context.with(withRequestId(context.active(), requestId), () =>
    pair(
      ['plain async function', 'router → local transport'],
      [() => plainEcho(input), () => local.echo(input, ctx)],
    ),
  );
}

/** One connection serves the module and calls it remotely, and does the raw echo too. */
async function benchNats(): Promise<[Row, Row][]> {
  const { nc, prefix, remote, stop } = await echoOverNats('microbench', log, metrics);

  const rawSubject = `${prefix}.raw.echo`;
  const sub = nc.subscribe(rawSubject, { callback: (_err, msg) => msg.respond(msg.data) });
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const raw = async () => {
    const body = encoder.encode(JSON.stringify(input));
    const reply = await nc.request(rawSubject, body, { timeout: 60_000 });
    return JSON.parse(decoder.decode(reply.data)) as { n: number };
  };
  const viaBunshop = () => remote.echo(input, ctx);
  if ((await viaBunshop()).n !== 1 || (await raw()).n !== 1) throw new Error('bad echo');

  console.error('measuring the NATS transport…');
  const rows = [
    await pair(['raw nats.js request', 'router → NATS transport'], [raw, viaBunshop]),
    await pair(
      [`raw nats.js, ${inFlight} in flight`, `router → NATS transport, ${inFlight} in flight`],
      [batch(raw), batch(viaBunshop)],
      inFlight,
    ),
  ];
  sub.unsubscribe();
  await stop();
  return rows;
}

const loadBefore = os.loadavg()[0]!.toFixed(2);
const localRows = only === 'nats' ? undefined : await benchLocal();
const natsRows = only === 'local' ? [] : await benchNats();

// --- report
const sh = (cmd: string[]) => {
  try {
    return Bun.spawnSync(cmd).stdout.toString().trim() || 'n/a';
  } catch {
    return 'n/a';
  }
};
const cpuModel =
  /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ??
  os.cpus()[0]?.model;
const us = (ns: number) => (ns / 1000).toFixed(2);
const lines = [
  `Machine: ${cpuModel}, ${os.cpus().length} cores; bun ${Bun.version}, node ${sh(['node', '--version'])}, ${os.platform()} ${os.release()}; load average ${loadBefore} before, ${os.loadavg()[0]!.toFixed(2)} after`,
  `Mode: ${quick ? 'quick' : 'full'} (${rounds} round(s) of ${opts.min_cpu_time / 1e6} ms per case; median of the rounds' medians). NATS: ${natsUrl}`,
  '',
  '| case | median | p99 | vs baseline | target | met |',
  '|---|---:|---:|---:|---|---|',
];
if (localRows) {
  const [plain, viaLocal] = localRows;
  const overhead = viaLocal.ns - plain.ns;
  lines.push(`| ${plain.name} | ${plain.ns.toFixed(0)} ns | ${plain.p99.toFixed(0)} ns | | | |`);
  lines.push(
    `| ${viaLocal.name} | ${viaLocal.ns.toFixed(0)} ns | ${viaLocal.p99.toFixed(0)} ns | +${overhead.toFixed(0)} ns/call | < 1000 ns overhead | ${overhead < 1000 ? 'yes' : 'NO'} |`,
  );
}
for (const [rawRow, ours] of natsRows) {
  const ratio = ours.ns / rawRow.ns;
  lines.push(`| ${rawRow.name} | ${us(rawRow.ns)} µs | ${us(rawRow.p99)} µs | | | |`);
  lines.push(
    `| ${ours.name} | ${us(ours.ns)} µs | ${us(ours.p99)} µs | ×${ratio.toFixed(2)} | ≤ ×1.25 | ${ratio <= 1.25 ? 'yes' : 'NO'} |`,
  );
}
lines.push(
  '',
  `Median and p99 are over mitata samples: for the local rows a sample averages a batch of calls;`,
  `with ${inFlight} in flight, a batch's time divided by ${inFlight} (per round trip).`,
);
console.log(lines.join('\n'));
