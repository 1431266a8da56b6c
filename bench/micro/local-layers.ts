/**
 * What each layer of a direct module call costs, in time: the plain async function, its two
 * valibot checks, the dispatcher alone, then the router with its middleware added one at a time.
 * Each case awaits 300,000 calls in a row, cases alternating for seven rounds, each round starting
 * one case later (so no case always follows the same one's garbage); the median and the fastest
 * round are printed. `bench/micro/allocations.ts` gives comparable layers in bytes.
 *
 *   bun bench/micro/local-layers.ts [calls per round]
 */
import { context } from '@opentelemetry/api';
import * as v from 'valibot';
import { systemClock } from '../../src/clock.ts';
import { withRequestId } from '../../src/observability/scope.ts';
import { Dispatcher } from '../../src/transport/dispatcher.ts';
import { deadline, observeCalls } from '../../src/transport/middleware.ts';
import { LocalTransport, Router } from '../../src/transport/router.ts';
import type { CallMiddleware } from '../../src/transport/types.ts';
import { benchKernel, routerFor } from '../support/kernel.ts';
import { benchCallContext, echoContract, echoService } from './echo.ts';

const calls = Number(process.argv[2] ?? 300_000);
const rounds = 7;
const { log, metrics } = await benchKernel();
const ctx = benchCallContext();
const { requestId } = ctx;
const input = { n: 1 };
const dispatcher = new Dispatcher(log, metrics, systemClock);
dispatcher.host(echoContract, echoService);
const transport = new LocalTransport(dispatcher);
const via = (middleware: CallMiddleware[]) =>
  new Router(dispatcher, transport, middleware).client(echoContract);
const bare = via([]);
const checked = via([deadline]);
const observed = via([deadline, observeCalls(metrics, dispatcher, transport.kind)]);
const full = routerFor(dispatcher, transport, metrics, log).client(echoContract);
const plain = async (i: { n: number }) => ({ n: i.n });
const { input: inSchema, output: outSchema } = echoContract.actions.echo;

const cases: [string, () => Promise<unknown>][] = [
  ['plain async function', () => plain(input)],
  [
    '+ input and output checks',
    async () => v.parse(outSchema, await plain(v.parse(inSchema, input))),
  ],
  ['dispatcher.dispatch', () => dispatcher.dispatch('bench', 'echo', input, ctx)],
  ['router, no middleware', () => bare.echo(input, ctx)],
  ['+ deadline', () => checked.echo(input, ctx)],
  ['+ call metrics', () => observed.echo(input, ctx)],
  ['+ resilience guard (as node.ts)', () => full.echo(input, ctx)],
];

// In a request's context, as the gateway calls modules.
await context.with(withRequestId(context.active(), requestId), async () => {
  const perCall = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let c = 0; c < cases.length; c++) {
      const [name, call] = cases[(r + c) % cases.length]!;
      const started = Bun.nanoseconds();
      for (let i = 0; i < calls; i++) await call();
      perCall.get(name)!.push((Bun.nanoseconds() - started) / calls);
    }
  }
  console.log(`| layer | ns a call, median of ${rounds} rounds | fastest round |`);
  console.log('|---|---:|---:|');
  for (const [name, ns] of perCall) {
    ns.sort((a, b) => a - b);
    console.log(`| ${name} | ${ns[rounds >> 1]!.toFixed(0)} | ${ns[0]!.toFixed(0)} |`);
  }
});
