import { afterAll, beforeAll, test } from 'bun:test';
import { type Client, client } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';
import { expectProblem } from './gateway-support.ts';

// The counterpart of gateway-signin-limit: behind a trusted proxy, the proxy's word counts.
let target: Target;
let api: Client;

beforeAll(async () => {
  target = await startTarget({
    SIGNIN_MAX_PER_ADDRESS: '2',
    SIGNIN_MAX_PER_EMAIL: '100',
    TRUST_PROXY: 'true',
  });
  api = client(target.baseUrl);
}, 60_000);
afterAll(() => target?.stop());

const failSignIn = (i: number, forwardedFor: string) =>
  api.post(
    '/auth/token',
    { email: `nobody-${i}@example.com`, password: 'wrong-password' },
    { headers: { 'x-forwarded-for': forwardedFor } },
  );

test('each forwarded address has its own budget', async () => {
  expectProblem(await failSignIn(1, '203.0.113.1'), 401, 'unauthorized');
  expectProblem(await failSignIn(2, '203.0.113.1'), 401, 'unauthorized');
  expectProblem(await failSignIn(3, '203.0.113.1'), 429, 'rate-limited');
  expectProblem(await failSignIn(4, '203.0.113.2'), 401, 'unauthorized');
});

test('the address the proxy appended counts, not what the client prepended', async () => {
  // The proxy appends the peer it saw; anything before it is the client's own claim.
  expectProblem(await failSignIn(5, '10.0.0.1, 203.0.113.1'), 429, 'rate-limited');
  expectProblem(await failSignIn(6, '203.0.113.1, 203.0.113.3'), 401, 'unauthorized');
});
