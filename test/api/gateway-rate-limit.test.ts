import { afterAll, beforeAll, expect, test } from 'bun:test';
import { type Client, client } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';
import { expectProblem } from './gateway-support.ts';

// Every request in this file counts against one budget of 5 per minute for 127.0.0.1.
let target: Target;
let api: Client;

beforeAll(async () => {
  target = await startTarget({ RATE_LIMIT_PER_MINUTE: '5' });
  api = client(target.baseUrl);
}, 60_000);
afterAll(() => target?.stop());

test('the sixth request in a minute is 429 with Retry-After, on every route', async () => {
  const served = [
    await api.get('/inventory/items'),
    await api.get('/metrics'),
    await api.get('/nope'),
    await api.post('/users', { name: 'x' }),
    await api.get('/users/me', { headers: { 'x-forwarded-for': '203.0.113.7' } }),
  ];
  expect(served.map((r) => r.status)).toEqual([200, 200, 404, 400, 401]);

  const sixth = await api.get('/inventory/items', { headers: { 'x-request-id': 'sixth-1' } });
  expectProblem(sixth, 429, 'rate-limited');
  const retryAfter = Number(sixth.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(sixth.headers.get('x-request-id')).toBe('sixth-1');

  expectProblem(await api.get('/nope'), 429, 'rate-limited');
  expectProblem(await api.request('DELETE', '/orders'), 429, 'rate-limited');
});

test('rotating forwarded addresses does not buy a fresh budget (TRUST_PROXY is off)', async () => {
  for (let i = 0; i < 3; i++) {
    const res = await api.post(
      '/auth/token',
      { email: 'a@example.com', password: 'whatever-1' },
      { headers: { 'x-forwarded-for': `198.51.100.${i}`, 'fly-client-ip': `192.0.2.${i}` } },
    );
    expectProblem(res, 429, 'rate-limited');
  }
});

test('health probes are never limited, so a busy node is not restarted for it', async () => {
  expect((await api.get('/health/live')).status).toBe(200);
  expect((await api.get('/health/ready')).status).toBe(200);
  expectProblem(await api.get('/inventory/items'), 429, 'rate-limited');
});
