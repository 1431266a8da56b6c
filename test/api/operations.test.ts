import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type Client, client } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';
import { expectProblem } from './gateway-support.ts';

let target: Target;
let api: Client;
let user: Awaited<ReturnType<Client['newUser']>>;

beforeAll(async () => {
  target = await startTarget();
  api = client(target.baseUrl);
  user = await api.newUser('ops');
}, 60_000);
afterAll(() => target?.stop());

describe('health', () => {
  test('live is 200', async () => {
    const res = await api.get('/health/live');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
  });

  test('ready is 200 with a passing check per dependency', async () => {
    const res = await api.get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ready');
    expect(res.body.checks.database).toMatchObject({ ok: true });
    expect(res.body.checks.migrations).toMatchObject({ ok: true });
    for (const check of Object.values(res.body.checks)) expect(check).toMatchObject({ ok: true });
  });
});

/** Value of one series in a Prometheus text exposition, or 0 when it is absent. */
function series(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const [, body = '', value = ''] = /^[^{]+\{(.*)\} (\S+)$/.exec(line) ?? [];
    const found = Object.fromEntries(
      [...body.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(value);
  }
  return 0;
}

describe('metrics', () => {
  const ids = ['0190d4c8-8c7a-7cc0-8000-0000000000a1', '0190d4c8-8c7a-7cc0-8000-0000000000a2'];
  const scrape = async () => {
    const res = await api.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toStartWith('text/plain');
    return res.text;
  };

  test('bunshop_http_requests_total is labelled by the route template, never the raw path', async () => {
    const labels = { method: 'GET', route: '/orders/{id}', status: '404' };
    const before = series(await scrape(), 'bunshop_http_requests_total', labels);
    for (const id of [...ids, ids[0]!]) {
      expect((await api.get(`/orders/${id}`, { token: user.token })).status).toBe(404);
    }
    await api.get('/nope/0190d4c8-8c7a-7cc0-8000-0000000000a3');
    const text = await scrape();
    expect(series(text, 'bunshop_http_requests_total', labels)).toBe(before + 3);
    for (const raw of [...ids, '0190d4c8-8c7a-7cc0-8000-0000000000a3', '/nope']) {
      expect(text).not.toContain(raw);
    }
    expect(
      series(text, 'bunshop_http_requests_total', {
        method: 'GET',
        route: 'unmatched',
        status: '404',
      }),
    ).toBeGreaterThanOrEqual(1);
  });

  test('/users/me and /users/{id}, which match the same paths, are each counted as themselves', async () => {
    const me = { method: 'GET', route: '/users/me', status: '200' };
    const byId = { method: 'GET', route: '/users/{id}', status: '200' };
    const before = await scrape();
    const mine = await api.get('/users/me', { token: user.token });
    expect(mine.status).toBe(200);
    expect((await api.get(`/users/${mine.body.id}`, { token: user.token })).status).toBe(200);
    const text = await scrape();
    expect(series(text, 'bunshop_http_requests_total', me)).toBe(
      series(before, 'bunshop_http_requests_total', me) + 1,
    );
    expect(series(text, 'bunshop_http_requests_total', byId)).toBe(
      series(before, 'bunshop_http_requests_total', byId) + 1,
    );
  });

  test('405s and refused bodies are labelled with the template too', async () => {
    await api.request('PATCH', '/inventory/items/RAW-SKU-405');
    await api.post('/users', undefined, { raw: 'x'.repeat(64 * 1024 + 1) });
    const text = await scrape();
    expect(
      series(text, 'bunshop_http_requests_total', {
        method: 'PATCH',
        route: '/inventory/items/{sku}',
        status: '405',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      series(text, 'bunshop_http_requests_total', {
        method: 'POST',
        route: '/users',
        status: '413',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('RAW-SKU-405');
  });

  test('bunshop_http_request_duration_seconds is a histogram with the same labels', async () => {
    await api.get('/health/live');
    const text = await scrape();
    expect(text).toContain('# TYPE bunshop_http_request_duration_seconds histogram');
    expect(text).toContain('# TYPE bunshop_http_requests_total counter');
    const labels = { method: 'GET', route: '/health/live', status: '200' };
    const count = series(text, 'bunshop_http_request_duration_seconds_count', labels);
    expect(count).toBeGreaterThanOrEqual(1);
    expect(
      series(text, 'bunshop_http_request_duration_seconds_bucket', { ...labels, le: '+Inf' }),
    ).toBe(count);
    expect(series(text, 'bunshop_http_request_duration_seconds_sum', labels)).toBeGreaterThan(0);
    expect(count).toBe(series(text, 'bunshop_http_requests_total', labels));
  });
});

/** Every path and method API.md lists, in OpenAPI's {param} form. */
const apiMd: [string, string][] = [
  ['post', '/users'],
  ['post', '/auth/token'],
  ['get', '/users/me'],
  ['get', '/users/{id}'],
  ['get', '/inventory/items'],
  ['get', '/inventory/items/{sku}'],
  ['put', '/inventory/items/{sku}'],
  ['get', '/accounts/me'],
  ['post', '/accounts/me/deposits'],
  ['get', '/accounts/me/transactions'],
  ['post', '/orders'],
  ['get', '/orders'],
  ['get', '/orders/{id}'],
  ['get', '/health/live'],
  ['get', '/health/ready'],
  ['get', '/metrics'],
  ['get', '/openapi.json'],
  ['get', '/docs'],
  ['get', '/admin/nodes'],
];

describe('OpenAPI document', () => {
  // biome-ignore lint/suspicious/noExplicitAny: a parsed JSON document
  let doc: any;
  const bodySchema = (method: string, path: string) =>
    doc.paths[path]?.[method]?.requestBody?.content?.['application/json']?.schema;

  beforeAll(async () => {
    const res = await api.get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toStartWith('application/json');
    doc = res.body;
  });

  test('is OpenAPI 3.1.0 with info and {param} paths only', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBeString();
    expect(doc.info.version).toBeString();
    for (const path of Object.keys(doc.paths)) expect(path).not.toContain(':');
  });

  test.each(apiMd)('documents %s %s', (method, path) => {
    const operation = doc.paths[path]?.[method];
    expect(operation).toBeDefined();
    expect(Object.keys(operation.responses ?? {}).length).toBeGreaterThan(0);
    const declared = (operation.parameters ?? [])
      .filter((p: { in: string }) => p.in === 'path')
      .map((p: { name: string }) => p.name)
      .sort();
    const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    expect(declared).toEqual(inPath);
  });

  test('request bodies are generated from the validation schemas', () => {
    const users = bodySchema('post', '/users');
    expect([...users.required].sort()).toEqual(['email', 'name', 'password']);
    expect(users.properties.name).toMatchObject({ type: 'string', minLength: 1, maxLength: 100 });
    expect(users.properties.password).toMatchObject({ minLength: 8, maxLength: 128 });
    expect(users.properties.email).toMatchObject({ type: 'string', maxLength: 254 });

    expect([...bodySchema('post', '/auth/token').required].sort()).toEqual(['email', 'password']);

    const item = bodySchema('put', '/inventory/items/{sku}');
    expect([...item.required].sort()).toEqual(['available', 'name', 'priceCents']);
    expect(item.properties.priceCents).toMatchObject({ type: 'integer', minimum: 0 });
    expect(item.properties.name).toMatchObject({ minLength: 1, maxLength: 200 });

    const deposit = bodySchema('post', '/accounts/me/deposits');
    expect(deposit.required).toEqual(['amountCents']);
    expect(deposit.properties.amountCents).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 100_000_000,
    });

    const order = bodySchema('post', '/orders');
    expect(order.required).toEqual(['items']);
    expect(order.properties.items).toMatchObject({ type: 'array', minItems: 1, maxItems: 20 });
    expect([...order.properties.items.items.required].sort()).toEqual(['qty', 'sku']);
    expect(order.properties.items.items.properties.qty).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 100,
    });
  });

  test('operation ids are unique identifiers', () => {
    const ids = Object.values(doc.paths).flatMap((ops) =>
      Object.values(ops as Record<string, { operationId: string }>).map((o) => o.operationId),
    );
    for (const id of ids) expect(id).toMatch(/^[a-z]+[A-Za-z0-9]*$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("the gateway's own answers are documented: 401, 403, 413, 415", () => {
    const statuses = (method: string, path: string) =>
      Object.keys(doc.paths[path][method].responses).sort();
    expect(statuses('post', '/orders')).toEqual(
      expect.arrayContaining(['201', '202', '400', '401', '413', '415']),
    );
    expect(statuses('put', '/inventory/items/{sku}')).toEqual(
      expect.arrayContaining(['400', '401', '403', '413', '415']),
    );
    expect(statuses('get', '/inventory/items/{sku}')).not.toContain('401');
    const unauthorized = doc.paths['/users/me'].get.responses['401'];
    expect(unauthorized.headers['WWW-Authenticate']).toBeDefined();
    expect(unauthorized.content['application/problem+json']).toBeDefined();
  });

  test('signed-in routes declare bearer security; errors are problem documents', () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/orders'].post.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/users'].post.security).toBeUndefined();
    const conflict = doc.paths['/users'].post.responses['409'];
    expect(conflict.content['application/problem+json']).toBeDefined();
    expect(doc.components.schemas.Problem.required).toEqual(['type', 'title', 'status', 'detail']);
  });
});

describe('reference page', () => {
  test('/docs is HTML that loads /docs/scalar.js for /openapi.json', async () => {
    const res = await fetch(`${target.baseUrl}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toStartWith('text/html');
    const html = await res.text();
    expect(html).toMatch(/<script[^>]+src="\/docs\/scalar\.js"/);
    expect(html).toContain('/openapi.json');
  });

  test('/docs/scalar.js is served as JavaScript', async () => {
    const res = await fetch(`${target.baseUrl}/docs/scalar.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
    const script = await res.text();
    expect(script.length).toBeGreaterThan(10_000);
    expect(script).not.toStartWith('<');
  });
});

describe('admin/nodes', () => {
  test('is for admins: 401 without a token, 403 for a customer, 200 for an admin', async () => {
    expectProblem(await api.get('/admin/nodes'), 401, 'unauthorized');
    expectProblem(await api.get('/admin/nodes', { token: user.token }), 403, 'forbidden');
    const res = await api.get('/admin/nodes', { token: await api.adminToken() });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toStartWith('application/json');
  });
});
