import { afterAll, beforeAll, expect, test } from 'bun:test';
import { type Client, client } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';
import { expectProblem } from './gateway-support.ts';

// TRUST_PROXY is off by default: the socket peer is the client, whatever headers claim.
let target: Target;
let api: Client;
let victim: Awaited<ReturnType<Client['newUser']>>;

beforeAll(async () => {
  target = await startTarget({ SIGNIN_MAX_PER_ADDRESS: '3', SIGNIN_MAX_PER_EMAIL: '100' });
  api = client(target.baseUrl);
  victim = await api.newUser('victim');
}, 60_000);
afterAll(() => target?.stop());

const spoofed = (i: number) => ({
  'x-forwarded-for': `203.0.113.${i}`,
  'x-real-ip': `198.51.100.${i}`,
  'fly-client-ip': `192.0.2.${i}`,
  forwarded: `for=192.0.2.${i}`,
});

test('rotating X-Forwarded-For does not escape the per-address sign-in limit', async () => {
  for (let i = 1; i <= 3; i++) {
    const res = await api.post(
      '/auth/token',
      { email: `nobody-${i}@example.com`, password: 'wrong-password' },
      { headers: spoofed(i) },
    );
    expectProblem(res, 401, 'unauthorized');
  }
  // A fourth address and a fourth email: only the real peer address can be over its limit.
  const limited = await api.post(
    '/auth/token',
    { email: 'nobody-4@example.com', password: 'wrong-password' },
    { headers: spoofed(4) },
  );
  expectProblem(limited, 429, 'rate-limited');
  expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
});

test('while limited, even the right password answers 429 and issues no token', async () => {
  const res = await api.post(
    '/auth/token',
    { email: victim.email, password: victim.password },
    { headers: spoofed(99) },
  );
  expectProblem(res, 429, 'rate-limited');
  expect(res.body.accessToken).toBeUndefined();
});

test('the limit is on sign-in only: other routes still answer', async () => {
  expect((await api.get('/users/me', { token: victim.token })).status).toBe(200);
  expect((await api.get('/health/live')).status).toBe(200);
});
