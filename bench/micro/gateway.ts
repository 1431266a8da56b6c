/**
 * The gateway and one module call in one process, the database stubbed: what bunshop's own
 * layers cost a W1 read (`GET /inventory/items/{sku}`), against bare Hono answering the same
 * JSON. It runs the real `createGateway`, inventory's routes and the router as node.ts wires
 * it; only the inventory service is a stub returning the item. 32 requests in flight, seven
 * timed rounds after a warm-up; the median round is reported.
 *
 *   bun bench/micro/gateway.ts
 *
 * To compare two commits, run it in a worktree of each, alternately (`git worktree add`): one
 * run's rounds agree within a few percent, but the machine's speed drifts between runs.
 */
import { Hono } from 'hono';
import { inventoryContract } from '../../modules/inventory/contract.ts';
import { inventoryRoutes } from '../../modules/inventory/routes.ts';
import { systemClock } from '../../src/clock.ts';
import { Dispatcher } from '../../src/transport/dispatcher.ts';
import { LocalTransport } from '../../src/transport/router.ts';
import { benchKernel, gatewayFor, routerFor } from '../support/kernel.ts';

const inFlight = 32;
const batches = 1500;

const { log, metrics } = await benchKernel();
const dispatcher = new Dispatcher(log, metrics, systemClock);
const row = { name: 'Item 1', priceCents: 100, available: 1000 };
dispatcher.host(inventoryContract, {
  getItem: async ({ sku }: { sku: string }) => ({ sku, ...row }),
} as never);
const app = gatewayFor(
  routerFor(dispatcher, new LocalTransport(dispatcher), metrics, log),
  metrics,
  log,
  [inventoryRoutes],
);

const bare = new Hono();
bare.get('/inventory/items/:sku', (c) => c.json({ sku: c.req.param('sku'), ...row }));

const urls = Array.from(
  { length: 1000 },
  (_, i) => `http://127.0.0.1/inventory/items/SKU-${String(i).padStart(4, '0')}`,
);

/** Median ns per request over seven rounds of `batches` batches of `inFlight` requests. */
async function measure(fetch: (r: Request) => Response | Promise<Response>): Promise<number> {
  let n = 0;
  const one = async () => {
    const res = await fetch(new Request(urls[n++ % urls.length]!));
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    await res.arrayBuffer();
  };
  const batch = () => Promise.all(Array.from({ length: inFlight }, one));
  for (let i = 0; i < batches * 2; i++) await batch();
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    const started = performance.now();
    for (let i = 0; i < batches; i++) await batch();
    rounds.push(((performance.now() - started) * 1e6) / (batches * inFlight));
  }
  return rounds.sort((x, y) => x - y)[3]!;
}

const hono = await measure((r) => bare.fetch(r));
const bunshop = await measure((r) => app.fetch(r));
console.log(`bare Hono:                         ${hono.toFixed(0)} ns per request`);
console.log(`bunshop gateway + module call:     ${bunshop.toFixed(0)} ns per request`);
console.log(`bunshop's layers:                 +${(bunshop - hono).toFixed(0)} ns per request`);
