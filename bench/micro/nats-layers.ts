/**
 * Where a NATS module call's time goes, 64 in flight: CPU per round trip of five calls that add
 * one layer at a time, alternated round by round on one connection (caller and callee in this
 * process, as in `transport.ts`). Pin it for steadier numbers: `taskset 1`, and nats-server on
 * the other core (`taskset -p 2 <pid>`; `taskset -p 3 <pid>` afterwards).
 *
 *   bun bench/micro/nats-layers.ts [seconds per run, 3] [rounds, 5]
 *
 * raw:       `nc.request` of `{"n":1}` to a subscription that echoes the bytes (transport.ts's baseline)
 * endpoint:  the same echo behind a nats.js service endpoint, as bunshop serves modules
 * envelope:  bunshop's call body (deadline, request id, caller, input) decoded by the endpoint,
 *            a JSON reply encoded, the reply decoded by the caller
 * dispatch:  the endpoint is bunshop's (`hostModules`): request-id scope, deadline, call metrics,
 *            input and output validation
 * router:    the whole call, `router.client(contract).echo()`: adds the caller's deadline, call
 *            metrics, breaker, bulkhead and retry, and `NatsTransport.send`
 */
import { cpuUsage } from 'node:process';
import { actionSubject } from '../../src/transport/subjects.ts';
import { decodeBody, decodeCall, encodeBody, encodeCall } from '../../src/transport/wire.ts';
import { benchKernel } from '../support/kernel.ts';
import { median } from '../support/load.ts';
import { benchCallContext, echoOverNats } from './echo.ts';

const seconds = Number(process.argv[2] ?? 3);
const rounds = Number(process.argv[3] ?? 5);
const inFlight = 64;

const { log, metrics } = await benchKernel();
const { nc, prefix, remote: router, stop } = await echoOverNats('natslayers', log, metrics);
const plain = await nc.services.add({ name: `${prefix}-plain`, version: '0.0.0' });
plain.addEndpoint('echo', {
  subject: `${prefix}.plain.echo`,
  handler: (_err, msg) => msg.respond(msg.data),
});
plain.addEndpoint('envelope', {
  subject: `${prefix}.plain.envelope`,
  handler: (_err, msg) => {
    const { input } = decodeCall(msg.data, Date.now());
    msg.respond(encodeBody({ n: (input as { n: number }).n }));
  },
});
const sub = nc.subscribe(`${prefix}.raw`, { callback: (_err, msg) => msg.respond(msg.data) });

const ctx = benchCallContext();
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const opts = { timeout: 60_000 };
const echoed = async (subject: string) =>
  JSON.parse(decoder.decode((await nc.request(subject, encoder.encode('{"n":1}'), opts)).data));
const viaEnvelope = async (subject: string) =>
  decodeBody((await nc.request(subject, encodeCall(ctx, { n: 1 }), opts)).data);

const calls: [string, () => Promise<unknown>][] = [
  ['raw', () => echoed(`${prefix}.raw`)],
  ['endpoint', () => echoed(`${prefix}.plain.echo`)],
  ['envelope', () => viaEnvelope(`${prefix}.plain.envelope`)],
  ['dispatch', () => viaEnvelope(actionSubject(prefix, 'bench', 'echo'))],
  ['router', () => router.echo({ n: 1 }, ctx)],
];
for (const [name, call] of calls) {
  if ((await call()) === undefined) throw new Error(`${name}: no echo`);
}

/** CPU µs per round trip over `seconds` of batches of 64. */
async function cpuPerCall(call: () => Promise<unknown>): Promise<number> {
  const until = performance.now() + seconds * 1000;
  const before = cpuUsage();
  let n = 0;
  while (performance.now() < until) {
    await Promise.all(Array.from({ length: inFlight }, call));
    n += inFlight;
  }
  const used = cpuUsage(before);
  return (used.user + used.system) / n;
}

const results = new Map<string, number[]>(calls.map(([name]) => [name, []]));
for (let r = 0; r < rounds; r++) {
  for (const [name, call] of calls) results.get(name)!.push(await cpuPerCall(call));
}
const raw = median(results.get('raw')!);
let previous = raw;
console.log(`CPU per round trip, ${inFlight} in flight, median of ${rounds} runs of ${seconds} s`);
for (const [name] of calls) {
  const us = median(results.get(name)!);
  console.log(
    `${name.padEnd(9)} ${us.toFixed(2).padStart(6)} µs  ${us >= previous ? '+' : ''}${(us - previous).toFixed(2)} over the line above  x${(us / raw).toFixed(2)} raw  (${results
      .get(name)!
      .map((x) => x.toFixed(1))
      .join(' ')})`,
  );
  previous = us;
}
sub.unsubscribe();
await plain.stop();
await stop();
