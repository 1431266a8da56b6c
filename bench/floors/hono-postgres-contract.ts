/**
 * The W1 floor plus only the per-request work API.md and DESIGN.md ask of every request, written
 * by hand as cheaply as this project knows how: what bunshop could cost at best with no modules,
 * no module call and no ORM between the route and postgres.js. Against `hono-postgres.ts` it
 * prices the contract; against bunshop, bunshop's own structure (bench/README.md, W1).
 *
 * Per request, beyond `hono-postgres.ts`'s W1: `X-Request-Id` read, checked and echoed (API.md),
 * `traceparent` read (DESIGN.md: a caller's trace context is carried; the bench sends none), the
 * request id carried in an AsyncLocalStorage for log lines written below the route, and the HTTP
 * counter and latency histogram by method, route template and status (bunshop's `TimedSeries`,
 * the cheapest of them measured here; prom-client's hashes labels on each call).
 *
 *   DATABASE_URL=postgres://root@127.0.0.1:5432/test PORT=3102 \
 *     node_modules/.bin/bun bench/floors/hono-postgres-contract.ts
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Context, Hono } from 'hono';
import postgres from 'postgres';
import { Registry } from 'prom-client';
import { TimedSeries } from '../../src/observability/timed-series.ts';

const sql = postgres(process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test', {
  max: Number(process.env.DB_POOL_SIZE ?? 10),
  max_pipeline: 1, // as bunshop and the plain floor
  fetch_types: false,
  onnotice: () => {},
  types: { bigint: { to: 20, from: [20], serialize: String, parse: Number } },
} as postgres.Options<{ bigint: postgres.PostgresType<number> }>);

const registry = new Registry();
const http = new TimedSeries({
  counter: { name: 'http_requests_total', help: 'HTTP requests by method, route and status.' },
  histogram: { name: 'http_request_duration_seconds', help: 'HTTP request latency.' },
  labelNames: ['method', 'route', 'status'],
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registry,
});
/** What a log line written anywhere below the route reads: the request it belongs to. */
const scope = new AsyncLocalStorage<{ requestId: string; traceparent: string | undefined }>();

const saneRequestId = /^[A-Za-z0-9._:-]{1,128}$/;
const skuPattern = /^(?!\.\.?$)[A-Za-z0-9._-]{1,64}$/;

const notFound = (requestId: string, detail: string) =>
  new Response(
    JSON.stringify({
      type: 'urn:bunshop:problem:not-found',
      title: 'Not found',
      status: 404,
      detail,
    }),
    {
      status: 404,
      headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId },
    },
  );

/** The per-request work, around a handler that answers with the request's id on its response. */
const enveloped =
  (route: string, handle: (c: Context, requestId: string) => Promise<Response>) =>
  (c: Context): Promise<Response> => {
    const started = performance.now();
    const given = c.req.header('x-request-id');
    const requestId = given && saneRequestId.test(given) ? given : crypto.randomUUID();
    const traceparent = c.req.header('traceparent');
    return scope.run({ requestId, traceparent }, async () => {
      const res = await handle(c, requestId);
      http.observe([c.req.method, route, String(res.status)], (performance.now() - started) / 1000);
      return res;
    });
  };

const app = new Hono();
app.get('/health/live', (c) => c.json({ status: 'ok' }));
app.get('/metrics', async () => new Response(await registry.metrics()));
app.get(
  '/inventory/items/:sku',
  enveloped('/inventory/items/{sku}', async (c, requestId) => {
    const sku = c.req.param('sku') ?? '';
    if (!skuPattern.test(sku)) return notFound(requestId, `No item ${sku.slice(0, 64)}.`);
    const [item] = await sql`select sku, name, price_cents as "priceCents", available
      from inventory.items where sku = ${sku}`;
    if (!item) return notFound(requestId, `No item ${sku}.`);
    return c.json(item, 200, { 'x-request-id': requestId });
  }),
);

Bun.serve({ port: Number(process.env.PORT ?? 3000), fetch: app.fetch });
console.log(`listening ${process.env.PORT ?? 3000}`);
