import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type Client, client, uniqueSku } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';
import { expectProblem, leaks, rawHttp, replyOf } from './gateway-support.ts';

let target: Target;
let api: Client;
let adminToken: string;
let user: Awaited<ReturnType<Client['newUser']>>;
let sku: string;

beforeAll(async () => {
  target = await startTarget();
  api = client(target.baseUrl);
  adminToken = await api.adminToken();
  user = await api.newUser('gateway');
  sku = uniqueSku('GW');
  await api.stock(adminToken, sku, 100, 3);
}, 60_000);
afterAll(() => target?.stop());

const allowOf = (h: Headers) =>
  (h.get('allow') ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean)
    .sort();

describe('error model', () => {
  test.each([
    ['GET', '/nope'],
    ['POST', '/nope'],
    ['GET', '/'],
    ['GET', '/orders/'],
    ['GET', '/users/me/extra'],
    ['DELETE', '/inventory/items/a/b'],
    ['GET', '/docs/scalarXjs'], // a template's dot is a dot, not any character
  ])('%s %s is a 404 problem document', async (method, path) => {
    const res = await api.request(method, path, undefined, { token: user.token });
    expectProblem(res, 404, 'not-found');
  });

  test.each([
    ['DELETE', '/orders', ['GET', 'HEAD', 'POST']],
    ['POST', '/users/me', ['GET', 'HEAD']],
    ['PATCH', '/inventory/items/x', ['GET', 'HEAD', 'PUT']],
    ['PUT', '/orders/0190d4c8-8c7a-7cc0-8000-000000000001', ['GET', 'HEAD']],
    ['DELETE', '/accounts/me', ['GET', 'HEAD']],
    ['GET', '/auth/token', ['POST']],
    ['GET', '/accounts/me/deposits', ['POST']],
    ['POST', '/inventory/items', ['GET', 'HEAD']],
  ])('%s %s is 405 with Allow', async (method, path, allow) => {
    const body = method === 'GET' ? undefined : { any: 'body' };
    const res = await api.request(method, path, body, { token: user.token });
    expectProblem(res, 405, 'method-not-allowed');
    expect(allowOf(res.headers)).toEqual(allow);
  });

  test('405 is answered before authentication and body checks', async () => {
    const res = await api.request('DELETE', '/orders', undefined, {
      headers: { 'content-type': 'text/plain' },
      raw: 'not json',
    });
    expectProblem(res, 405, 'method-not-allowed');
  });

  test('OPTIONS names the allowed methods', async () => {
    const res = await fetch(`${target.baseUrl}/inventory/items/x`, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(allowOf(res.headers)).toEqual(['GET', 'HEAD', 'PUT']);
  });

  test('HEAD on GET routes answers like GET without a body', async () => {
    for (const path of ['/health/live', '/inventory/items', `/inventory/items/${sku}`]) {
      const res = await fetch(target.baseUrl + path, { method: 'HEAD' });
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(res.headers.get('content-type')).toStartWith('application/json');
      expect(res.headers.get('x-request-id')).toBeTruthy();
      expect(await res.text()).toBe('');
    }
    const mine = await fetch(`${target.baseUrl}/users/me`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(mine.status).toBe(200);
  });

  test('HEAD keeps the error status of GET', async () => {
    const missing = await fetch(`${target.baseUrl}/inventory/items/${uniqueSku('NONE')}`, {
      method: 'HEAD',
    });
    expect(missing.status).toBe(404);
    const anonymous = await fetch(`${target.baseUrl}/users/me`, { method: 'HEAD' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toStartWith('Bearer');
  });
});

describe('no internals in error bodies', () => {
  // Requests chosen to reach the database, the validator and the token checks with bad input.
  const cases: [string, string, unknown, 'user' | 'none', number][] = [
    ['GET', "/inventory/items/'%20OR%201=1--", undefined, 'none', 404],
    ['GET', '/inventory/items/%00', undefined, 'none', 404],
    ['GET', `/inventory/items/${'x'.repeat(5000)}`, undefined, 'none', 404],
    ['GET', '/inventory/items?limit=0', undefined, 'none', 400],
    ['GET', '/inventory/items?limit=1e3', undefined, 'none', 400],
    ['GET', "/inventory/items?cursor=';drop%20table%20x;--", undefined, 'none', 400],
    ['GET', '/orders/not-a-uuid', undefined, 'user', 404],
    ['GET', '/orders/0190d4c8-8c7a-7cc0-8000-000000000001', undefined, 'user', 404],
    ['GET', '/users/00000000-0000-0000-0000-000000000000', undefined, 'user', 404],
    ['GET', '/users/%27%3B--', undefined, 'user', 404],
    ['GET', '/accounts/me/transactions?cursor=AAAA', undefined, 'user', 400],
    ['POST', '/auth/token', { email: 'a\u0000b@example.com', password: 'x' }, 'none', 400],
    ['POST', '/auth/token', { email: "' or 1=1 --", password: "' or 1=1 --" }, 'none', 401],
    ['POST', '/users', { name: 'x', email: 'x'.repeat(300), password: 'p' }, 'none', 400],
    ['POST', '/orders', { items: [{ sku: "a'; --", qty: 1 }] }, 'user', 400],
    ['POST', '/orders', { items: [{ sku: 'A', qty: 1e308 }] }, 'user', 400],
    ['POST', '/accounts/me/deposits', { amountCents: 2 ** 53 + 2 }, 'user', 400],
    ['POST', '/accounts/me/deposits', { amountCents: '1; select 1' }, 'user', 400],
    ['GET', '/users/me', undefined, 'none', 401],
  ];

  test.each(cases)('%s %s', async (method, path, body, auth, status) => {
    const token = auth === 'user' ? user.token : undefined;
    const res = await api.request(method, path, body, { token });
    expectProblem(res, status);
  });

  test('a forged token of every shape gets the same 401 body', async () => {
    const bodies = new Set<string>();
    for (const token of ['x', 'a.b.c', `${'A'.repeat(300)}.e30.`, 'eyJhbGciOiJub25lIn0.e30.']) {
      const res = await api.get('/users/me', { token });
      expectProblem(res, 401, 'unauthorized');
      bodies.add(res.text);
    }
    expect(bodies.size).toBe(1);
  });

  test('the leak scanner itself catches a stack trace and SQL', () => {
    expect(leaks('Error: x\n    at run (/work/main/src/app.ts:10:5)')).toContain('stack frame');
    expect(leaks('Failed query: select "id" from "user"."users"')).toContain('SQL');
    expect(leaks('{"detail":"must be at most 100 characters"}')).toEqual([]);
  });
});

describe('X-Request-Id', () => {
  test('every response carries one, errors included, each distinct', async () => {
    const replies = await Promise.all([
      api.get('/health/live'),
      api.get('/nope'),
      api.request('DELETE', '/orders'),
      api.get('/users/me'),
      api.post('/users', {}),
      api.post('/users', undefined, { raw: 'x'.repeat(65 * 1024) }),
      api.post('/users', undefined, { raw: '{}', headers: { 'content-type': 'text/plain' } }),
    ]);
    const ids = replies.map((r) => r.headers.get('x-request-id'));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test.each([
    ['ordinary', 'req-123'],
    ['a UUID', '0190d4c8-8c7a-7cc0-8000-000000000001'],
    ['dotted and coloned', 'trace.abc:span_42'],
    ['128 characters', 'r'.repeat(128)],
  ])('a sane id (%s) is echoed, on success and on error', async (_, id) => {
    const ok = await api.get('/health/live', { headers: { 'x-request-id': id } });
    expect(ok.headers.get('x-request-id')).toBe(id);
    const err = await api.get('/nope', { headers: { 'x-request-id': id } });
    expect(err.headers.get('x-request-id')).toBe(id);
  });

  test.each([
    ['too long', 'r'.repeat(129)],
    ['with spaces', 'a b'],
    ['markup', '<script>alert(1)</script>'],
    ['a quote', 'x"y'],
    ['a log-injection attempt', 'ok} {"level":"error"'],
    ['empty', ''],
  ])('a hostile id (%s) is replaced', async (_, id) => {
    const res = await api.get('/health/live', { headers: { 'x-request-id': id } });
    const echoed = res.headers.get('x-request-id');
    expect(echoed).not.toBe(id);
    expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('raw bytes that fetch would refuse are replaced too', async () => {
    const head = 'GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Request-Id: ';
    const raw = Buffer.concat([
      Buffer.from(head),
      Buffer.from([0xff, 0xfe, 0x41, 0x7f]),
      Buffer.from('\r\n\r\n'),
    ]);
    const res = await rawHttp(target.baseUrl, raw);
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('oversized headers', () => {
  test('one huge header is refused without a 5xx, and the server keeps serving', async () => {
    const res = await rawHttp(
      target.baseUrl,
      `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(200_000)}\r\nConnection: close\r\n\r\n`,
    );
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect((await api.get('/health/live')).status).toBe(200);
  });

  test('many headers are refused or served, never a 5xx', async () => {
    const lines = Array.from({ length: 500 }, (_, i) => `X-H${i}: ${'v'.repeat(50)}\r\n`).join('');
    const res = await rawHttp(
      target.baseUrl,
      `GET /health/live HTTP/1.1\r\nHost: x\r\n${lines}Connection: close\r\n\r\n`,
    );
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(res.status).toBeLessThan(500);
  });

  test('a long bearer token within the header limit is a 401 problem', async () => {
    const res = await api.get('/users/me', { token: `${'a'.repeat(6000)}.${'b'.repeat(1000)}.c` });
    expectProblem(res, 401, 'unauthorized');
  });

  test('a long X-Request-Id within the header limit is replaced, not echoed', async () => {
    const id = 'a'.repeat(7000);
    const res = await api.get('/nope', { headers: { 'x-request-id': id } });
    expectProblem(res, 404, 'not-found');
    expect(res.headers.get('x-request-id')).not.toBe(id);
  });

  test('a raw 405 answer carries Allow and a problem body', async () => {
    const res = await rawHttp(
      target.baseUrl,
      'DELETE /orders HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expectProblem(replyOf(res), 405, 'method-not-allowed');
    expect(res.headers.allow).toContain('POST');
  });
});
