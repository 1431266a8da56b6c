import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type Client, client, uniqueSku } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';
import { expectProblem } from './gateway-support.ts';

let target: Target;
let api: Client;
let user: Awaited<ReturnType<Client['newUser']>>;
let adminToken: string;

beforeAll(async () => {
  target = await startTarget();
  api = client(target.baseUrl);
  user = await api.newUser('badinput');
  adminToken = await api.adminToken();
}, 60_000);
afterAll(() => target?.stop());

let seq = 0;
const freshEmail = () => `bad-${Date.now().toString(36)}-${seq++}@example.com`;
const registration = (over: Record<string, unknown> = {}) => ({
  name: 'Ada',
  email: freshEmail(),
  password: 'correct-horse-1',
  ...over,
});
const postRaw = (path: string, raw: string | Uint8Array, headers?: Record<string, string>) =>
  api.post(path, undefined, { raw, headers });

describe('content type', () => {
  test.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['form encoded', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['multipart', { 'content-type': 'multipart/form-data; boundary=x' }],
    ['json look-alike', { 'content-type': 'application/jsonx' }],
    ['json as a parameter', { 'content-type': 'text/plain; x=application/json' }],
  ])('%s is 415', async (_, headers) => {
    const res = await postRaw('/users', JSON.stringify(registration()), headers);
    expectProblem(res, 415, 'unsupported-media-type');
  });

  test('a missing content type is 415', async () => {
    const res = await fetch(`${target.baseUrl}/users`, {
      method: 'POST',
      body: new Blob([JSON.stringify(registration())]),
    });
    expect(res.headers.get('content-type')).toStartWith('application/problem+json');
    expect(res.status).toBe(415);
  });

  test('no state changes on a 415: the email stays free', async () => {
    const body = registration();
    await postRaw('/users', JSON.stringify(body), { 'content-type': 'text/plain' });
    expect((await api.post('/users', body)).status).toBe(201);
  });

  test.each(['application/json; charset=utf-8', 'Application/JSON', 'application/problem+json'])(
    '%s is accepted',
    async (type) => {
      const res = await postRaw('/users', JSON.stringify(registration()), { 'content-type': type });
      expect(res.status).toBe(201);
    },
  );
});

describe('malformed JSON', () => {
  test.each([
    ['empty body', ''],
    ['whitespace only', '   \n'],
    ['truncated', '{"name":"Ada"'],
    ['single quotes', "{'name':'Ada'}"],
    ['trailing comma', '{"name":"Ada",}'],
    ['comment', '{"name":"Ada"} // hi'],
    ['NaN', '{"amount":NaN}'],
    ['two documents', '{}{}'],
    ['raw control character', '{"name":"a\u0001b"}'],
  ])('%s is 400', async (_, raw) => {
    expectProblem(await postRaw('/users', raw), 400, 'validation');
  });

  test.each([
    ['an array', []],
    ['a string', 'hello'],
    ['a number', 42],
    ['null', null],
    ['true', true],
  ])('a JSON value that is %s instead of an object is 400', async (_, value) => {
    expectProblem(await api.post('/users', value), 400, 'validation');
  });

  test('deep nesting is 400, not a crash', async () => {
    const deep = `{"items":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    expectProblem(await postRaw('/users', deep), 400, 'validation');
    const res = await api.post('/orders', undefined, { raw: deep, token: user.token });
    expectProblem(res, 400, 'validation');
  });

  test('a huge array of lines is 400 and places nothing', async () => {
    const items = Array.from({ length: 2000 }, (_, i) => ({ sku: `S${i}`, qty: 1 }));
    const res = await api.post('/orders', { items }, { token: user.token });
    expectProblem(res, 400, 'validation');
    expect((await api.get('/orders', { token: user.token })).body.items).toEqual([]);
  });
});

describe('encoding', () => {
  test('invalid UTF-8 is 400', async () => {
    const before = new TextEncoder().encode('{"name":"');
    const after = new TextEncoder().encode(`","email":"${freshEmail()}","password":"12345678"}`);
    for (const bad of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80]]) {
      const raw = new Uint8Array([...before, ...bad, ...after]);
      expectProblem(await postRaw('/users', raw), 400, 'validation');
    }
  });

  test.each([
    ['NUL', 'Ada\u0000Lovelace'],
    ['bell', 'Ada\u0007'],
    ['escape', '\u001b[31mAda'],
    ['DEL', 'Ada\u007f'],
    ['newline', 'Ada\nLovelace'],
    ['lone high surrogate', 'Ada\ud800'],
    ['lone low surrogate', '\udc00Ada'],
    ['reversed pair', 'Ada\udc00\ud800'],
  ])('a name with %s is 400 and creates no user', async (_, name) => {
    const body = registration({ name });
    expectProblem(await api.post('/users', body), 400, 'validation');
    expect((await api.post('/users', { ...body, name: 'Ada' })).status).toBe(201);
  });

  test.each([
    ['NUL in the email', { email: 'ada\u0000@example.com', password: 'correct-horse-1' }],
    ['NUL in the password', { email: 'ada@example.com', password: 'correct\u0000horse' }],
    ['lone surrogate in the email', { email: 'ada\ud800@example.com', password: 'x' }],
    ['lone surrogate in the password', { email: 'ada@example.com', password: 'x\udfff' }],
  ])('sign-in with %s is 400, never a 5xx', async (_, body) => {
    expectProblem(await api.post('/auth/token', body), 400, 'validation');
  });

  test('NUL in a key or in an ignored field is 400 too', async () => {
    expectProblem(await api.post('/users', registration({ 'x\u0000': 1 })), 400, 'validation');
    expectProblem(await api.post('/users', registration({ note: '\u0000' })), 400, 'validation');
  });

  test('NUL in an item name and an order sku is 400', async () => {
    const put = await api.put(
      `/inventory/items/${uniqueSku('NUL')}`,
      { name: 'a\u0000b', priceCents: 1, available: 1 },
      { token: adminToken },
    );
    expectProblem(put, 400, 'validation');
    const order = await api.post(
      '/orders',
      { items: [{ sku: 'A\u0000', qty: 1 }] },
      { token: user.token },
    );
    expectProblem(order, 400, 'validation');
  });

  test('emoji, accents and other scripts in names are kept as sent', async () => {
    for (const name of ['Zoë 😀', '李小龍', 'محمد', '👩🏽‍💻 family 👨‍👩‍👧', 'e\u0301']) {
      const res = await api.post('/users', registration({ name }));
      expect(res.status).toBe(201);
      expect(res.body.name).toBe(name);
    }
    const sku = uniqueSku('EMOJI');
    const put = await api.put(
      `/inventory/items/${sku}`,
      { name: 'Tea 🍵', priceCents: 1, available: 1 },
      { token: adminToken },
    );
    expect(put.status).toBe(201);
    expect((await api.get(`/inventory/items/${sku}`)).body.name).toBe('Tea 🍵');
  });

  // PGlite decoded each text value as a document and dropped a leading U+FEFF as a byte order mark.
  test('a name that begins with U+FEFF reads back with it, as written', async () => {
    const name = '\ufeffTea';
    const sku = uniqueSku('BOM');
    const put = await api.put(
      `/inventory/items/${sku}`,
      { name, priceCents: 1, available: 1 },
      { token: adminToken },
    );
    expect(put.status).toBe(201);
    expect(put.body.name).toBe(name);
    expect((await api.get(`/inventory/items/${sku}`)).body.name).toBe(name);
    const signUp = registration({ name: '\ufeff\ufeffAda' });
    const created = await api.post('/users', signUp);
    expect(created.status).toBe(201);
    expect(created.body.name).toBe('\ufeff\ufeffAda');
    const token = await api.signIn(signUp.email, signUp.password);
    expect((await api.get('/users/me', { token })).body.name).toBe('\ufeff\ufeffAda');
  });

  test('name limits count characters (code points), as the OpenAPI maxLength does', async () => {
    for (const ch of ['a', 'é', '😀', '𝕆']) {
      const ok = await api.post('/users', registration({ name: ch.repeat(100) }));
      expect({ ch, status: ok.status }).toEqual({ ch, status: 201 });
      const over = await api.post('/users', registration({ name: ch.repeat(101) }));
      expectProblem(over, 400, 'validation');
      expect(over.body.errors).toEqual([
        { path: 'name', message: 'must be at most 100 characters' },
      ]);
    }
    expectProblem(await api.post('/users', registration({ name: '' })), 400, 'validation');
    const item = await api.put(
      `/inventory/items/${uniqueSku('LONG')}`,
      { name: '🍵'.repeat(200), priceCents: 1, available: 1 },
      { token: adminToken },
    );
    expect(item.status).toBe(201);
  });
});

describe('duplicate and special keys', () => {
  test('a key twice is 400, escaped or not, and nothing is created', async () => {
    const email = freshEmail();
    const dup = `{"name":"Ada","email":"${email}","password":"correct-horse-1","name":"Eve"}`;
    expectProblem(await postRaw('/users', dup), 400, 'validation');
    const escaped = `{"name":"Ada","email":"${email}","password":"correct-horse-1","n\\u0061me":"Eve"}`;
    expectProblem(await postRaw('/users', escaped), 400, 'validation');
    expect((await api.post('/users', registration({ email }))).status).toBe(201);
  });

  test('a duplicate amount is refused, so no reader can pick another value', async () => {
    const raw = '{"amountCents":1,"amountCents":100000000}';
    const res = await api.post('/accounts/me/deposits', undefined, { raw, token: user.token });
    expectProblem(res, 400, 'validation');
    expect((await api.get('/accounts/me', { token: user.token })).body.balanceCents).toBe(0);
  });

  test('the same key in sibling objects is fine', async () => {
    const sku = uniqueSku('SIB');
    await api.stock(adminToken, sku, 1, 5);
    const other = uniqueSku('SIB');
    await api.stock(adminToken, other, 1, 5);
    const buyer = await api.newUser('sibling');
    await api.deposit(buyer.token, 10);
    const raw = `{"items":[{"sku":"${sku}","qty":1},{"sku":"${other}","qty":1}]}`;
    const res = await api.post('/orders', undefined, { raw, token: buyer.token });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('CONFIRMED');
  });

  test('__proto__ and constructor keys neither pollute nor grant anything', async () => {
    const raw = JSON.stringify(registration()).replace(
      /^\{/,
      '{"__proto__":{"role":"admin","polluted":true},"constructor":{"prototype":{"polluted":true}},',
    );
    const res = await postRaw('/users', raw);
    expect(res.status).toBe(201);
    expect(res.body.role).toBe('customer');
    expect(res.body.polluted).toBeUndefined();
    // The server runs in this process: its Object.prototype is ours.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).role).toBeUndefined();
    // A later request still behaves: a plain registration is a customer, a bad one a 400.
    const later = await api.post('/users', registration());
    expect(later.status).toBe(201);
    expect(later.body.role).toBe('customer');
    expectProblem(await api.post('/users', { name: 'x' }), 400, 'validation');
  });

  test('__proto__ as an order line or a deposit changes nothing', async () => {
    const raw = '{"__proto__":{"amountCents":500},"amountCents":"x"}';
    const dep = await api.post('/accounts/me/deposits', undefined, { raw, token: user.token });
    expectProblem(dep, 400, 'validation');
    const order = await api.post('/orders', undefined, {
      raw: '{"__proto__":{"items":[{"sku":"A","qty":1}]}}',
      token: user.token,
    });
    expectProblem(order, 400, 'validation');
    expect((await api.get('/accounts/me', { token: user.token })).body.balanceCents).toBe(0);
    expect((await api.get('/orders', { token: user.token })).body.items).toEqual([]);
  });
});
