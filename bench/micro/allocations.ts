/**
 * Bytes the JavaScript heap takes per W1 read, layer by layer, in one process with the database
 * stubbed: what each of bunshop's layers adds to the garbage collector's work. On Bun a bigger
 * or busier heap makes every request dearer (bench/README.md, W1), and allocation counts stay
 * put where this VM's timings drift by 20 %: the same build's bytes agree within a few percent
 * run to run (they are counted at collections, about forty a layer).
 *
 * Each layer runs in a child process with JSC's GC log on (`BUN_JSC_logGC=1`); the bytes JSC
 * reports allocated between collections are summed over 320,000 operations (32 in flight),
 * after 32,000 to warm up.
 *
 *   bun bench/micro/allocations.ts
 */
import { Hono } from 'hono';
import { inventoryContract } from '../../modules/inventory/contract.ts';
import { inventoryRoutes } from '../../modules/inventory/routes.ts';
import { systemClock } from '../../src/clock.ts';
import { systemContext } from '../../src/context.ts';
import { json } from '../../src/gateway/api.ts';
import { Dispatcher } from '../../src/transport/dispatcher.ts';
import { LocalTransport } from '../../src/transport/router.ts';
import { benchKernel, gatewayFor, routerFor } from '../support/kernel.ts';

const layers = {
  'plain async function': 'a function returning the item',
  'dispatcher.dispatch': "the callee's half of a direct call: validation, deadline race",
  'router client call': '+ the middleware chain: deadline, call metrics, resilience',
  'bare Hono route': 'Request in, c.json() out, no bunshop code',
  'bunshop gateway, no call': 'the envelope and a public route answering with json()',
  'bunshop gateway + call': 'GET /inventory/items/{sku}, as the server runs it',
} as const;
type Layer = keyof typeof layers;
const inFlight = 32;
const warmBatches = 1_000;
const batches = 10_000;
const mark = 'ALLOCATIONS-MARK';

const layer = process.env.ALLOCATIONS_LAYER as Layer | undefined;
if (layer) await measureIn(layer);
else await report();

async function report(): Promise<void> {
  console.log('| layer | bytes per operation | what it runs |\n|---|---:|---|');
  for (const name of Object.keys(layers) as Layer[]) {
    const child = Bun.spawnSync([process.execPath, import.meta.path], {
      env: { ...process.env, ALLOCATIONS_LAYER: name, BUN_JSC_logGC: '1' },
      stdout: 'ignore',
      stderr: 'pipe',
    });
    if (child.exitCode !== 0) throw new Error(`${name}: ${child.stderr.toString().slice(-2000)}`);
    console.log(`| ${name} | ${bytesPerOperation(child.stderr.toString())} | ${layers[name]} |`);
  }
}

/** Sums "bytes allocated this cycle" of the collections logged between the two marks. */
function bytesPerOperation(log: string): number {
  const [, measured = ''] = log.split(mark);
  let bytes = 0;
  for (const m of measured.matchAll(/bytes allocated this cycle: (\d+)/g)) bytes += Number(m[1]);
  return Math.round(bytes / (batches * inFlight));
}

async function measureIn(name: Layer): Promise<void> {
  const operation = await setUp(name);
  const batch = () => Promise.all(Array.from({ length: inFlight }, operation));
  for (let i = 0; i < warmBatches; i++) await batch();
  console.error(mark);
  for (let i = 0; i < batches; i++) await batch();
  console.error(mark);
}

async function setUp(name: Layer): Promise<() => Promise<unknown>> {
  const { log, metrics } = await benchKernel();
  const dispatcher = new Dispatcher(log, metrics, systemClock);
  const row = { name: 'Item 1', priceCents: 100, available: 1000 };
  const getItem = async ({ sku }: { sku: string }) => ({ sku, ...row });
  dispatcher.host(inventoryContract, { getItem } as never);
  const router = routerFor(dispatcher, new LocalTransport(dispatcher), metrics, log);
  const skus = Array.from({ length: 1000 }, (_, i) => `SKU-${String(i).padStart(4, '0')}`);
  const url = (prefix: string) => skus.map((sku) => `http://127.0.0.1${prefix}${sku}`);
  const ctx = systemContext('order', 60_000, 'allocations');
  let n = 0;
  const sku = () => skus[n++ % skus.length]!;
  const fetching = (fetch: (r: Request) => Response | Promise<Response>, urls: string[]) => {
    return async () => (await fetch(new Request(urls[n++ % urls.length]!))).arrayBuffer();
  };
  switch (name) {
    case 'plain async function':
      return () => getItem({ sku: sku() });
    case 'dispatcher.dispatch':
      return () => dispatcher.dispatch('inventory', 'getItem', { sku: sku() }, ctx);
    case 'router client call': {
      const inventory = router.client(inventoryContract);
      return () => inventory.getItem({ sku: sku() }, ctx);
    }
    case 'bare Hono route': {
      const bare = new Hono();
      bare.get('/inventory/items/:sku', (c) => c.json({ sku: c.req.param('sku'), ...row }));
      return fetching((r) => bare.fetch(r), url('/inventory/items/'));
    }
    default: {
      const app = gatewayFor(router, metrics, log, [
        inventoryRoutes,
        (api) =>
          api.route({
            method: 'get',
            path: '/echo/:sku',
            tag: 'bench',
            summary: 'The item, without a module call',
            auth: 'public',
            responses: { 200: { description: 'The item.' } },
            handle: async ({ param }) => json({ sku: param('sku'), ...row }),
          }),
      ]);
      const call = name === 'bunshop gateway + call';
      return fetching((r) => app.fetch(r), url(call ? '/inventory/items/' : '/echo/'));
    }
  }
}
