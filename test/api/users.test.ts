import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { type Client, client, isProblem, type Reply } from '../support/client.ts';
import { admin, startTarget, type Target } from '../support/target.ts';

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
const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
let seq = 0;
const uniqueEmail = (prefix = 'user') =>
  `${prefix}-${Date.now().toString(36)}-${seq++}-${Math.random().toString(36).slice(2, 6)}@example.com`;

/** An address of exactly `length` characters whose local part starts with a unique tag. */
function emailOfLength(length: number): string {
  const local = `len${Date.now().toString(36)}${seq++}`.padEnd(64, 'a');
  // DNS labels are at most 63 characters, so a long domain is several labels.
  const domain = Array.from({ length: length - local.length - 5 }, (_, i) =>
    i % 63 === 62 ? '.' : 'b',
  ).join('');
  return `${local}@${domain}.com`;
}

/** A success body must never carry the password, a hash or a field naming either. */
function expectNoSecrets(reply: Reply, plain: string): void {
  expect(reply.text).not.toContain(plain);
  expect(reply.text).not.toContain('$argon2');
  expect(reply.text.toLowerCase()).not.toContain('password');
  expect(reply.text.toLowerCase()).not.toContain('hash');
}

const fieldPaths = (reply: Reply): string[] =>
  (reply.body?.errors ?? []).map((e: { path: string }) => e.path);

describe('POST /users', () => {
  test('201 with the user, a Location naming it, and no password', async () => {
    const email = uniqueEmail('shape');
    const res = await api.post('/users', { name: 'Ada Lovelace', email, password });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toStartWith('application/json');
    expect(Object.keys(res.body).sort()).toEqual(['createdAt', 'email', 'id', 'name', 'role']);
    expect(res.body).toMatchObject({ name: 'Ada Lovelace', email, role: 'customer' });
    expect(res.body.id).toMatch(uuidShape);
    expect(new Date(res.body.createdAt).toISOString()).toBe(res.body.createdAt);
    expect(res.headers.get('location')).toBe(`/users/${res.body.id}`);
    expectNoSecrets(res, password);

    const token = await api.signIn(email, password);
    const again = await api.get(res.headers.get('location')!, { token });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
  });

  test('409 for an email taken that differs only in case; the first account is untouched', async () => {
    const email = uniqueEmail('Case.Taken');
    expect((await api.post('/users', { name: 'First', email, password })).status).toBe(201);
    for (const variant of [email.toUpperCase(), email.toLowerCase(), email]) {
      const res = await api.post('/users', {
        name: 'Second',
        email: variant,
        password: 'another-password-2',
      });
      expect(isProblem(res, 409)).toBe(true);
      expect(res.body.type).toBe('urn:bunshop:problem:conflict');
    }
    const token = await api.signIn(email, password);
    expect((await api.get('/users/me', { token })).body.name).toBe('First');
    const second = await api.post('/auth/token', { email, password: 'another-password-2' });
    expect(second.status).toBe(401);
  });

  test('409 for the admin email in another case: nobody can claim the admin account', async () => {
    const res = await api.post('/users', {
      name: 'Mallory',
      email: admin.email.toUpperCase(),
      password,
    });
    expect(isProblem(res, 409)).toBe(true);
    expect((await api.post('/auth/token', admin)).status).toBe(200);
  });

  const valid = () => ({ name: 'Valid Name', email: uniqueEmail('bad'), password });
  const invalid: [string, Record<string, unknown>, string][] = [
    ['empty name', { name: '' }, 'name'],
    ['name of 101 characters', { name: 'n'.repeat(101) }, 'name'],
    ['name with a control character', { name: 'bell\u0007name' }, 'name'],
    ['name with a newline', { name: 'two\nlines' }, 'name'],
    ['name with NUL', { name: 'nul\u0000name' }, 'name'],
    ['name with a lone surrogate', { name: 'half\ud800' }, 'name'],
    ['name that is not a string', { name: 42 }, 'name'],
    ['missing name', { name: undefined }, 'name'],
    ['invalid email', { email: 'not-an-email' }, 'email'],
    ['email without a domain', { email: 'someone@' }, 'email'],
    ['email with spaces around it', { email: ' spaced@example.com ' }, 'email'],
    ['email with a newline', { email: 'line@example.com\nBcc: x@example.com' }, 'email'],
    ['email with NUL', { email: 'nul\u0000@example.com' }, 'email'],
    ['email of 255 characters', { email: emailOfLength(255) }, 'email'],
    ['email that is not a string', { email: ['a@example.com'] }, 'email'],
    ['password of 7 characters', { password: 'p'.repeat(7) }, 'password'],
    ['password of 129 characters', { password: 'p'.repeat(129) }, 'password'],
    ['missing password', { password: undefined }, 'password'],
  ];
  const bodyLevel = ['name with NUL', 'name with a lone surrogate', 'email with NUL'];
  for (const [name, patch, path] of invalid) {
    test(`400 naming the field: ${name}`, async () => {
      const body = { ...valid(), ...patch };
      const res = await api.post('/users', body);
      expect(isProblem(res, 400)).toBe(true);
      expect(res.body.type).toBe('urn:bunshop:problem:validation');
      // NUL and lone surrogates may be refused while reading the body, before any field is seen.
      if (!bodyLevel.includes(name)) expect(fieldPaths(res)).toContain(path);
      for (const e of res.body.errors ?? []) expect(typeof e.message).toBe('string');
      // Nothing was created: a valid sign-up with the same email still succeeds.
      if (typeof body.email === 'string' && path !== 'email') {
        const retry = await api.post('/users', { ...body, ...valid(), email: body.email });
        expect(retry.status).toBe(201);
      }
    });
  }

  test('400 lists every bad field at once', async () => {
    const res = await api.post('/users', { name: '', email: 'nope', password: 'short' });
    expect(isProblem(res, 400)).toBe(true);
    expect(new Set(fieldPaths(res))).toEqual(new Set(['name', 'email', 'password']));
  });

  test('the boundaries are accepted: name 1 and 100, email 254, password 8 and 128', async () => {
    const cases = [
      { name: 'x', email: uniqueEmail('min'), password: 'p'.repeat(8) },
      { name: 'y'.repeat(100), email: emailOfLength(254), password: 'q'.repeat(128) },
    ];
    for (const body of cases) {
      const res = await api.post('/users', body);
      expect(res.status).toBe(201);
      expect(res.body.name).toBe(body.name);
      expect(res.body.email).toBe(body.email);
      const token = await api.signIn(body.email, body.password);
      expect((await api.get('/users/me', { token })).body.id).toBe(res.body.id);
    }
  });

  test('mass assignment: id, role, createdAt and a hash in the body are ignored', async () => {
    const forcedId = '00000000-0000-7000-8000-000000000001';
    const email = uniqueEmail('mass');
    const res = await api.post('/users', {
      id: forcedId,
      role: 'admin',
      createdAt: '2000-01-01T00:00:00.000Z',
      passwordHash: 'not-a-hash',
      name: 'Eve',
      email,
      password,
    });
    expect(res.status).toBe(201);
    expect(res.body.id).not.toBe(forcedId);
    expect(res.body.id).toMatch(uuidShape);
    expect(res.body.role).toBe('customer');
    expect(res.body.createdAt).not.toBe('2000-01-01T00:00:00.000Z');

    const token = await api.signIn(email, password);
    expect((await api.get('/users/me', { token })).body.role).toBe('customer');
    const adminOnly = await api.put(
      '/inventory/items/MASS-1',
      { name: 'x', priceCents: 1, available: 1 },
      { token },
    );
    expect(isProblem(adminOnly, 403)).toBe(true);
    const adminToken = await api.adminToken();
    expect(isProblem(await api.get(`/users/${forcedId}`, { token: adminToken }), 404)).toBe(true);
  });
});

describe('GET /users/me and /users/{id}', () => {
  test('/users/me answers the caller, with no password', async () => {
    const u = await api.newUser('me');
    const res = await api.get('/users/me', { token: u.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: u.id, email: u.email, role: 'customer' });
    expect(Object.keys(res.body).sort()).toEqual(['createdAt', 'email', 'id', 'name', 'role']);
    expectNoSecrets(res, u.password);
  });

  test('a user reads themself by id', async () => {
    const u = await api.newUser('self');
    const res = await api.get(`/users/${u.id}`, { token: u.token });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(u.id);
    expectNoSecrets(res, u.password);
  });

  test("another user's id is 404, the same answer as an absent user", async () => {
    const alice = await api.newUser('alice');
    const bob = await api.newUser('bob');
    const other = await api.get(`/users/${bob.id}`, { token: alice.token });
    const absent = await api.get(`/users/${crypto.randomUUID()}`, { token: alice.token });
    expect(isProblem(other, 404)).toBe(true);
    expect(other.body.type).toBe('urn:bunshop:problem:not-found');
    expect(other.text).not.toContain(bob.email);
    expect(isProblem(absent, 404)).toBe(true);
    expect(other.body).toEqual(absent.body);
  });

  test('an admin sees anyone, and still gets 404 for an absent user', async () => {
    const u = await api.newUser('seen');
    const adminToken = await api.adminToken();
    const res = await api.get(`/users/${u.id}`, { token: adminToken });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: u.id, email: u.email, role: 'customer' });
    expectNoSecrets(res, u.password);
    const absent = await api.get(`/users/${Bun.randomUUIDv7()}`, { token: adminToken });
    expect(isProblem(absent, 404)).toBe(true);
  });

  test('a malformed id is 404, for a customer and for an admin', async () => {
    const u = await api.newUser('malformed');
    const adminToken = await api.adminToken();
    const ids = [
      'not-a-uuid',
      '123',
      `${u.id}x`,
      u.id.toUpperCase().replace(/-/g, ''),
      "'%20OR%201=1--",
    ];
    for (const token of [u.token, adminToken]) {
      for (const id of ids) {
        const res = await api.get(`/users/${id}`, { token });
        expect(isProblem(res, 404)).toBe(true);
      }
    }
  });

  test('without a token both are 401', async () => {
    const u = await api.newUser('anon');
    for (const path of ['/users/me', `/users/${u.id}`]) {
      const res = await api.get(path);
      expect(isProblem(res, 401)).toBe(true);
      expect(res.headers.get('www-authenticate')).toStartWith('Bearer');
    }
  });

  test('the admin account from ADMIN_EMAIL/ADMIN_PASSWORD exists and has role admin', async () => {
    const token = await api.adminToken();
    const res = await api.get('/users/me', { token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ email: admin.email, role: 'admin' });
    expectNoSecrets(res, admin.password);
  });
});
