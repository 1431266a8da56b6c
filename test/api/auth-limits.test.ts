import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { type Client, client, isProblem, type Reply } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';

// Small limits so the per-address limit is reachable; the tests below run in order and share
// this target's one client address, so each step builds on the failures counted before it.
// Every sign-up and sign-in runs argon2, which is slow on a loaded CI machine.
setDefaultTimeout(30_000);

let target: Target;
let api: Client;
beforeAll(async () => {
  target = await startTarget({ SIGNIN_MAX_PER_EMAIL: '3', SIGNIN_MAX_PER_ADDRESS: '5' });
  api = client(target.baseUrl);
}, 60_000);
afterAll(() => target?.stop());

const password = 'correct-horse-1';
let seq = 0;
const uniqueEmail = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}-${seq++}-${Math.random().toString(36).slice(2, 6)}@example.com`;

async function register(prefix: string): Promise<string> {
  const email = uniqueEmail(prefix);
  const res = await api.post('/users', { name: prefix, email, password });
  expect(res.status).toBe(201);
  return email;
}

const signIn = (email: string, pw = password) => api.post('/auth/token', { email, password: pw });

function expectLimited(res: Reply): void {
  expect(isProblem(res, 429)).toBe(true);
  expect(res.body.type).toBe('urn:bunshop:problem:rate-limited');
  expect(res.body).not.toHaveProperty('accessToken');
  expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(900);
}

let steady: string;
let victim: string;
let bystander: string;
let steadyToken: string;

describe('failed sign-in limits (3 per email, 5 per address)', () => {
  test('successful sign-ins do not count: 12 in a row all succeed', async () => {
    steady = await register('steady');
    victim = await register('victim');
    bystander = await register('bystander');
    for (let i = 0; i < 12; i++) {
      const res = await signIn(steady);
      expect(res.status).toBe(200);
      steadyToken = res.body.accessToken;
    }
  });

  test('after 3 failures for one email, 429 even with the right password', async () => {
    for (let i = 0; i < 3; i++)
      expect((await signIn(victim, `wrong-${i}-password`)).status).toBe(401);
    expectLimited(await signIn(victim));
    // The limit is per account, whatever the case of the email.
    expectLimited(await signIn(victim.toUpperCase()));
    // Refused attempts are not failures: they must not eat into the address budget (2 left).
    expectLimited(await signIn(victim, 'wrong-again-password'));
  });

  test('another email still signs in while one is limited', async () => {
    expect((await signIn(bystander)).status).toBe(200);
    expect((await signIn(steady)).status).toBe(200);
  });

  test('failures for other emails add up to the per-address limit, then everyone waits', async () => {
    // Address failures so far: 3. A wrong password and an unknown email make 5.
    expect((await signIn(bystander, 'wrong-password-b')).status).toBe(401);
    expect((await signIn(bystander)).status).toBe(200);
    expect((await signIn(uniqueEmail('nobody'), 'wrong-password-c')).status).toBe(401);

    expectLimited(await signIn(bystander));
    expectLimited(await signIn(steady));
    expectLimited(await signIn(uniqueEmail('fresh')));
  });

  test('the limits guard only sign-in: earlier tokens and sign-up still work', async () => {
    const me = await api.get('/users/me', { token: steadyToken });
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(steady);
    const created = await api.post('/users', {
      name: 'late',
      email: uniqueEmail('late'),
      password,
    });
    expect(created.status).toBe(201);
    expectLimited(await signIn(created.body.email));
  });
});
