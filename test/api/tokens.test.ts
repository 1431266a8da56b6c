import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { decode, sign } from 'hono/jwt';
import { type Client, client, isProblem, type Reply } from '../support/client.ts';
import { jwtSecret, startTarget, type Target } from '../support/target.ts';

// Every sign-up and sign-in runs argon2, which is slow on a loaded CI machine.
setDefaultTimeout(30_000);

let target: Target;
let api: Client;
let user: { id: string; token: string };
/** The claims the server itself issued, as the base every forgery varies one thing of. */
let issued: Record<string, unknown>;
/** The answer to a request with no token at all: every other rejection must match it. */
let reference: Reply;

beforeAll(async () => {
  target = await startTarget();
  api = client(target.baseUrl);
  user = await api.newUser('tokens');
  issued = decode(user.token).payload as Record<string, unknown>;
  reference = await api.get('/users/me');
}, 60_000);
afterAll(() => target?.stop());

const now = () => Math.floor(Date.now() / 1000);
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token with the server's claims, fresh times, and `patch` applied (undefined drops a claim). */
function claims(patch: Record<string, unknown> = {}) {
  return { ...issued, iat: now() - 5, nbf: now() - 5, exp: now() + 600, ...patch };
}
const forge = (
  patch: Record<string, unknown> = {},
  key = jwtSecret,
  alg: 'HS256' | 'HS384' | 'HS512' = 'HS256',
) => sign(claims(patch), key, alg);

/** An unsigned token built by hand: hono's `sign` refuses `alg: none`. */
const unsigned = (signature = '') =>
  `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims())}.${signature}`;

const meWith = (authorization?: string) =>
  api.get('/users/me', authorization ? { headers: { authorization } } : undefined);

function expectRejected(res: Reply): void {
  expect(isProblem(res, 401)).toBe(true);
  expect(res.body.type).toBe('urn:bunshop:problem:unauthorized');
  expect(res.headers.get('www-authenticate')).toStartWith('Bearer');
  expect(res.text).toBe(reference.text);
}

describe('access tokens', () => {
  test('the reference: no token is 401 with WWW-Authenticate: Bearer', () => {
    expect(isProblem(reference, 401)).toBe(true);
    expect(reference.headers.get('www-authenticate')).toStartWith('Bearer');
    expect(issued.sub).toBe(user.id);
  });

  test('controls: the issued token and a faithful forgery are accepted', async () => {
    for (const token of [user.token, await forge()]) {
      const res = await meWith(`Bearer ${token}`);
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(user.id);
    }
  });

  const signature = () => user.token.split('.')[2]!;
  const swapPayload = (payload: unknown) => {
    const [header, , sig] = user.token.split('.');
    return `${header}.${b64url(payload)}.${sig}`;
  };
  const cases: [string, () => Promise<string | undefined> | string | undefined][] = [
    ['missing', () => undefined],
    ['only the scheme', () => 'Bearer'],
    ['two spaces after the scheme', () => `Bearer  ${user.token}`],
    ['garbage Bearer', () => 'Bearer garbage'],
    ['garbage with symbols', () => 'Bearer !!!$$$***'],
    ['three empty parts', () => 'Bearer ..'],
    ['malformed parts', () => 'Bearer aaa.bbb.ccc'],
    ['two parts', () => `Bearer ${user.token.split('.').slice(0, 2).join('.')}`],
    ['four parts', () => `Bearer ${user.token}.extra`],
    ['wrong scheme Basic', () => `Basic ${btoa('user:password')}`],
    ['wrong scheme Token', () => `Token ${user.token}`],
    ['no scheme', () => user.token],
    ['alg none, no signature', () => `Bearer ${unsigned()}`],
    ['alg none with a real signature', () => `Bearer ${unsigned(signature())}`],
    [
      'alg none in another case',
      () =>
        `Bearer ${unsigned().replace(b64url({ alg: 'none', typ: 'JWT' }), b64url({ alg: 'None', typ: 'JWT' }))}`,
    ],
    [
      'wrong key',
      async () => `Bearer ${await forge({}, 'another-secret-that-is-long-enough-0123456789')}`,
    ],
    [
      'right key, HS512 instead of the pinned HS256',
      async () => `Bearer ${await forge({}, jwtSecret, 'HS512')}`,
    ],
    ['payload tampered after signing', () => `Bearer ${swapPayload({ ...issued, role: 'admin' })}`],
    ['signature stripped', () => `Bearer ${user.token.split('.').slice(0, 2).join('.')}.`],
    ['wrong iss', async () => `Bearer ${await forge({ iss: 'someone-else' })}`],
    ['missing iss', async () => `Bearer ${await forge({ iss: undefined })}`],
    ['wrong aud', async () => `Bearer ${await forge({ aud: 'another-api' })}`],
    ['missing aud', async () => `Bearer ${await forge({ aud: undefined })}`],
    [
      'expired',
      async () =>
        `Bearer ${await forge({ iat: now() - 7200, nbf: now() - 7200, exp: now() - 60 })}`,
    ],
    [
      'not yet valid (nbf in the future)',
      async () => `Bearer ${await forge({ nbf: now() + 3600, exp: now() + 7200 })}`,
    ],
    [
      'issued in the future',
      async () => `Bearer ${await forge({ iat: now() + 3600, exp: now() + 7200 })}`,
    ],
    ['no exp: a token must expire', async () => `Bearer ${await forge({ exp: undefined })}`],
    ['exp not a number', async () => `Bearer ${await forge({ exp: 'tomorrow' })}`],
    ['missing sub', async () => `Bearer ${await forge({ sub: undefined })}`],
    ['sub not a user id', async () => `Bearer ${await forge({ sub: 'not-a-uuid' })}`],
    ['unknown role', async () => `Bearer ${await forge({ role: 'superuser' })}`],
    [
      'oversized (> 4 KiB), validly signed',
      async () => `Bearer ${await forge({ pad: 'x'.repeat(4200) })}`,
    ],
  ];
  for (const [name, make] of cases) {
    test(`401 with the same body: ${name}`, async () => {
      const authorization = await make();
      expectRejected(await meWith(authorization));
      // The same verdict on another protected route, so /users/me is not a special case.
      const headers: Record<string, string> = authorization ? { authorization } : {};
      expectRejected(await api.get(`/users/${user.id}`, { headers }));
    });
  }

  test('a valid token for a user who does not exist is 401 everywhere, and changes nothing', async () => {
    const ghost = await forge({ sub: Bun.randomUUIDv7() });
    const headers = { authorization: `Bearer ${ghost}` };
    expectRejected(await meWith(`Bearer ${ghost}`));
    expectRejected(await api.get('/accounts/me', { headers }));
    expectRejected(await api.post('/accounts/me/deposits', { amountCents: 100 }, { headers }));
    expectRejected(await api.post('/orders', { items: [{ sku: 'ANY-1', qty: 1 }] }, { headers }));
    expectRejected(await api.get('/orders', { headers }));
  });

  test('the role comes from the account, not the token: a forged admin claim is not admin', async () => {
    const forged = await forge({ sub: user.id, role: 'admin' });
    const res = await api.put(
      '/inventory/items/FORGED-ROLE-1',
      { name: 'x', priceCents: 1, available: 1 },
      { headers: { authorization: `Bearer ${forged}` } },
    );
    expect(res.status).toBe(403);
    expect((await api.get('/inventory/items/FORGED-ROLE-1')).status).toBe(404);
  });

  test('a token carries no password or hash', () => {
    const text = JSON.stringify(decode(user.token));
    expect(text.toLowerCase()).not.toContain('password');
    expect(text).not.toContain('$argon2');
  });
});
