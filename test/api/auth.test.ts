import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { decode } from 'hono/jwt';
import { type Client, client, isProblem } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';

// Every sign-up and sign-in runs argon2, which is slow on a loaded CI machine.
setDefaultTimeout(30_000);

let target: Target;
let api: Client;
beforeAll(async () => {
  target = await startTarget();
  api = client(target.baseUrl);
}, 60_000);
afterAll(() => target?.stop());

const password = 'correct-horse-1';
let seq = 0;
const uniqueEmail = (prefix = 'auth') =>
  `${prefix}-${Date.now().toString(36)}-${seq++}-${Math.random().toString(36).slice(2, 6)}@example.com`;

async function register(email: string): Promise<string> {
  const res = await api.post('/users', { name: 'Signer', email, password });
  expect(res.status).toBe(201);
  return res.body.id;
}

describe('POST /auth/token', () => {
  test('200 with a Bearer token that works and says how long it lives', async () => {
    const email = uniqueEmail();
    const id = await register(email);
    const res = await api.post('/auth/token', { email, password });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['accessToken', 'expiresIn', 'tokenType']);
    expect(res.body.tokenType).toBe('Bearer');
    expect(Number.isInteger(res.body.expiresIn)).toBe(true);
    expect(res.body.expiresIn).toBeGreaterThan(0);
    expect(res.text).not.toContain(password);
    expect(res.text).not.toContain('$argon2');

    const { header, payload } = decode(res.body.accessToken);
    expect(header.alg).toBe('HS256');
    expect(payload.sub).toBe(id);
    expect(payload).not.toHaveProperty('password');
    expect(Number(payload.exp) - Number(payload.iat)).toBe(res.body.expiresIn);

    const me = await api.get('/users/me', { token: res.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(id);
  });

  test('sign-in ignores the case of the email', async () => {
    const email = uniqueEmail('Mixed.Case');
    const id = await register(email);
    for (const variant of [email.toLowerCase(), email.toUpperCase(), email]) {
      const token = await api.signIn(variant, password);
      expect((await api.get('/users/me', { token })).body.id).toBe(id);
    }
  });

  test('401 for a wrong password and an unknown email, with identical answers', async () => {
    const email = uniqueEmail('known');
    await register(email);
    const wrongPassword = await api.post('/auth/token', { email, password: 'wrong-password-9' });
    const unknownEmail = await api.post('/auth/token', {
      email: uniqueEmail('nobody'),
      password,
    });
    for (const res of [wrongPassword, unknownEmail]) {
      expect(isProblem(res, 401)).toBe(true);
      expect(res.body.type).toBe('urn:bunshop:problem:unauthorized');
      expect(res.headers.get('www-authenticate')).toStartWith('Bearer');
    }
    expect(unknownEmail.text).toBe(wrongPassword.text);
    expect(unknownEmail.headers.get('www-authenticate')).toBe(
      wrongPassword.headers.get('www-authenticate'),
    );
    expect(wrongPassword.text).not.toContain(email);
  });

  test('the password is compared exactly: case and padding matter', async () => {
    const email = uniqueEmail('exact');
    await register(email);
    for (const attempt of [password.toUpperCase(), ` ${password}`, `${password} `]) {
      expect((await api.post('/auth/token', { email, password: attempt })).status).toBe(401);
    }
  });

  const malformed: [string, unknown, string][] = [
    ['missing email', { password }, 'email'],
    ['missing password', { email: 'a@example.com' }, 'password'],
    ['email not a string', { email: 7, password }, 'email'],
    ['password not a string', { email: 'a@example.com', password: { $ne: '' } }, 'password'],
    ['email over 254 characters', { email: `${'a'.repeat(250)}@example.com`, password }, 'email'],
    [
      'password over 128 characters',
      { email: 'a@example.com', password: 'p'.repeat(129) },
      'password',
    ],
  ];
  for (const [name, body, path] of malformed) {
    test(`400 naming the field: ${name}`, async () => {
      const res = await api.post('/auth/token', body);
      expect(isProblem(res, 400)).toBe(true);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    });
  }
});

describe('failed sign-in limit (defaults: 10 per email)', () => {
  test('10 failures, then 429 with Retry-After even with the right password', async () => {
    const email = uniqueEmail('limited');
    await register(email);
    for (let i = 0; i < 10; i++) {
      const res = await api.post('/auth/token', { email, password: `wrong-password-${i}` });
      expect(res.status).toBe(401);
    }
    const limited = await api.post('/auth/token', { email, password });
    expect(isProblem(limited, 429)).toBe(true);
    expect(limited.body.type).toBe('urn:bunshop:problem:rate-limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(900);

    // The same email in another case is the same account, so it is limited too.
    const upper = await api.post('/auth/token', { email: email.toUpperCase(), password });
    expect(isProblem(upper, 429)).toBe(true);
    // Another account from the same address is unaffected (100 per address by default).
    const other = uniqueEmail('unaffected');
    await register(other);
    expect((await api.post('/auth/token', { email: other, password })).status).toBe(200);
  });

  test('a concurrent flood cannot exceed the limit: 30 at once, only 10 are tried', async () => {
    const email = uniqueEmail('flood');
    await register(email);
    const replies = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        api.post('/auth/token', { email, password: `flood-password-${i}` }),
      ),
    );
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20);
    for (const r of replies.filter((x) => x.status === 429)) {
      expect(r.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    }
    expect((await api.post('/auth/token', { email, password })).status).toBe(429);
  });
});

describe('X-Request-Id', () => {
  const sane = ['req-1', 'abc.DEF_123:456-x', 'r'.repeat(128), crypto.randomUUID()];
  for (const id of sane) {
    test(`a sane id is echoed: ${id.slice(0, 40)}`, async () => {
      const ok = await api.get('/health/live', { headers: { 'x-request-id': id } });
      expect(ok.headers.get('x-request-id')).toBe(id);
      const error = await api.post('/auth/token', {}, { headers: { 'x-request-id': id } });
      expect(error.status).toBe(400);
      expect(error.headers.get('x-request-id')).toBe(id);
    });
  }

  const hostile = [
    'r'.repeat(129),
    'x'.repeat(4000),
    'has spaces in it',
    '<script>alert(1)</script>',
    'quote"and\'semicolon;',
    '../../etc/passwd',
    'id,with,commas',
    '%0d%0aSet-Cookie:x=1',
  ];
  for (const id of hostile) {
    test(`a hostile id is replaced: ${id.slice(0, 40)}`, async () => {
      for (const res of [
        await api.get('/health/live', { headers: { 'x-request-id': id } }),
        await api.get('/no/such/path', { headers: { 'x-request-id': id } }),
      ]) {
        const given = res.headers.get('x-request-id');
        expect(given).not.toBe(id);
        expect(given).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
        expect(res.text).not.toContain(id);
      }
    });
  }

  test('every response carries one, fresh per request when none is sent', async () => {
    const a = await api.get('/health/live');
    const b = await api.post('/auth/token', { email: 'x@example.com' });
    expect(a.headers.get('x-request-id')).toBeTruthy();
    expect(b.headers.get('x-request-id')).toBeTruthy();
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });
});
