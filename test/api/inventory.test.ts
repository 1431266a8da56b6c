import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type Client, client, isProblem, uniqueSku } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';

let target: Target;
let api: Client;
let admin: string;
let customer: string;

beforeAll(async () => {
  target = await startTarget();
  api = client(target.baseUrl);
  admin = await api.adminToken();
  customer = (await api.newUser('inventory')).token;
}, 60_000);
afterAll(() => target?.stop());

const fields = (over: Record<string, unknown> = {}) => ({
  name: 'Widget',
  priceCents: 250,
  available: 7,
  ...over,
});
const itemPath = (sku: string) => `/inventory/items/${sku}`;
const paths = (reply: { body: { errors?: { path: string }[] } }) =>
  (reply.body.errors ?? []).map((e) => e.path);

describe('PUT /inventory/items/{sku}', () => {
  test('creates an item: 201, the item as body, Location; GET reads it back', async () => {
    const sku = uniqueSku('INV');
    const created = await api.put(itemPath(sku), fields(), { token: admin });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ sku, name: 'Widget', priceCents: 250, available: 7 });
    expect(created.headers.get('location')).toBe(itemPath(sku));
    const read = await api.get(created.headers.get('location')!);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
  });

  test('replaces an existing item: 200 with the new item, and GET sees the new values', async () => {
    const sku = uniqueSku('INV');
    await api.stock(admin, sku, 100, 1);
    const replaced = await api.put(
      itemPath(sku),
      fields({ name: 'Renamed', priceCents: 999, available: 0 }),
      { token: admin },
    );
    expect(replaced.status).toBe(200);
    expect(replaced.body).toEqual({ sku, name: 'Renamed', priceCents: 999, available: 0 });
    expect((await api.get(itemPath(sku))).body).toEqual(replaced.body);
  });

  test('accepts the boundaries: 64-char sku, every sku symbol, name 200, price 0 and 2^53-1', async () => {
    const cases = [
      { sku: 'A'.repeat(64), body: fields() },
      { sku: `a.b_c-D.${Date.now()}`, body: fields() },
      { sku: uniqueSku('MAX'), body: fields({ name: 'n'.repeat(200), priceCents: 0 }) },
      {
        sku: uniqueSku('BIG'),
        body: fields({ priceCents: Number.MAX_SAFE_INTEGER, available: Number.MAX_SAFE_INTEGER }),
      },
      { sku: uniqueSku('ONE'), body: fields({ name: 'x', available: 0 }) },
    ];
    for (const { sku, body } of cases) {
      const res = await api.put(itemPath(sku), body, { token: admin });
      expect([200, 201]).toContain(res.status);
      expect(res.body).toEqual({ sku, ...body });
      expect((await api.get(itemPath(sku))).body).toEqual({ sku, ...body });
    }
  });

  test('a customer gets 403 and nothing is stored', async () => {
    const sku = uniqueSku('INV');
    const res = await api.put(itemPath(sku), fields(), { token: customer });
    expect(isProblem(res, 403)).toBe(true);
    expect(res.body.type).toBe('urn:bunshop:problem:forbidden');
    expect(isProblem(await api.get(itemPath(sku)), 404)).toBe(true);
  });

  test('a customer cannot replace an existing item either', async () => {
    const sku = uniqueSku('INV');
    const before = await api.stock(admin, sku, 100, 3);
    const res = await api.put(itemPath(sku), fields({ priceCents: 1 }), { token: customer });
    expect(isProblem(res, 403)).toBe(true);
    expect((await api.get(itemPath(sku))).body).toEqual(before);
  });

  test('no token or a bad token gets 401 with WWW-Authenticate, and nothing is stored', async () => {
    const sku = uniqueSku('INV');
    for (const token of [undefined, 'not-a-jwt', `${admin}x`]) {
      const res = await api.put(itemPath(sku), fields(), { token });
      expect(isProblem(res, 401)).toBe(true);
      expect(res.headers.get('www-authenticate')).toStartWith('Bearer');
    }
    expect(isProblem(await api.get(itemPath(sku)), 404)).toBe(true);
  });

  test('a sku outside ^[A-Za-z0-9._-]{1,64}$ is 400 on PUT (errors path sku) and 404 on GET', async () => {
    const bad = [
      'A'.repeat(65),
      'a%2Fb',
      'a%20b',
      encodeURIComponent("'; drop table inventory.items; --"),
      encodeURIComponent("x' OR '1'='1"),
      'caf%C3%A9',
      'a%00b',
      'a%2Ab',
    ];
    for (const sku of bad) {
      const put = await api.put(itemPath(sku), fields(), { token: admin });
      expect(isProblem(put, 400)).toBe(true);
      expect(paths(put)).toContain('sku');
      const get = await api.get(itemPath(sku));
      expect(isProblem(get, 404)).toBe(true);
    }
    const list = await api.get('/inventory/items?limit=100');
    expect(list.status).toBe(200);
    expect(list.body.items.some((i: { sku: string }) => i.sku.length > 64)).toBe(false);
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['empty name', fields({ name: '' }), 'name'],
    ['201-char name', fields({ name: 'n'.repeat(201) }), 'name'],
    ['name with a control character', fields({ name: 'bad\u0001name' }), 'name'],
    ['name not a string', fields({ name: 42 }), 'name'],
    ['missing name', { priceCents: 1, available: 1 }, 'name'],
    ['priceCents -1', fields({ priceCents: -1 }), 'priceCents'],
    ['priceCents 1.5', fields({ priceCents: 1.5 }), 'priceCents'],
    ['priceCents "100"', fields({ priceCents: '100' }), 'priceCents'],
    ['priceCents 2^53', fields({ priceCents: 2 ** 53 }), 'priceCents'],
    ['priceCents null', fields({ priceCents: null }), 'priceCents'],
    ['missing priceCents', { name: 'x', available: 1 }, 'priceCents'],
    ['available -1', fields({ available: -1 }), 'available'],
    ['available 1e308', fields({ available: 1e308 }), 'available'],
    ['available 0.5', fields({ available: 0.5 }), 'available'],
    ['available "3"', fields({ available: '3' }), 'available'],
    ['missing available', { name: 'x', priceCents: 1 }, 'available'],
  ];
  for (const [label, body, path] of invalid) {
    test(`${label}: 400 naming ${path}, and the stored item is unchanged`, async () => {
      const fresh = uniqueSku('BAD');
      const res = await api.put(itemPath(fresh), body, { token: admin });
      expect(isProblem(res, 400)).toBe(true);
      expect(res.body.type).toBe('urn:bunshop:problem:validation');
      expect(paths(res)).toContain(path);
      expect(isProblem(await api.get(itemPath(fresh)), 404)).toBe(true);

      const existing = uniqueSku('KEEP');
      const before = await api.stock(admin, existing, 300, 4);
      expect(isProblem(await api.put(itemPath(existing), body, { token: admin }), 400)).toBe(true);
      expect((await api.get(itemPath(existing))).body).toEqual(before);
    });
  }

  test('a body that is not an object of JSON is refused before anything is stored', async () => {
    const sku = uniqueSku('INV');
    const cases = [
      { raw: '', status: 400 },
      { raw: '{"name":', status: 400 },
      { raw: '[]', status: 400 },
      { raw: 'null', status: 400 },
      { raw: JSON.stringify(fields()), status: 415, type: 'text/plain' },
    ];
    for (const c of cases) {
      const headers = c.type ? { 'content-type': c.type } : undefined;
      const res = await api.request('PUT', itemPath(sku), undefined, {
        token: admin,
        raw: c.raw,
        headers,
      });
      expect(isProblem(res, c.status)).toBe(true);
    }
    expect(isProblem(await api.get(itemPath(sku)), 404)).toBe(true);
  });

  test('fields a client may not set (sku in the body, reserved, sold) are ignored', async () => {
    const sku = uniqueSku('INV');
    const other = uniqueSku('OTHER');
    const res = await api.put(
      itemPath(sku),
      { ...fields({ available: 2 }), sku: other, reserved: 50, sold: 9, id: 'x' },
      { token: admin },
    );
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ sku, name: 'Widget', priceCents: 250, available: 2 });
    expect(isProblem(await api.get(itemPath(other)), 404)).toBe(true);
  });

  test('SQL metacharacters in a name are stored and returned literally', async () => {
    const names = [
      "Robert'); DROP TABLE inventory.items; --",
      '" OR ""="',
      "1' OR '1'='1",
      '\\x00 $1 %s ;',
    ];
    for (const name of names) {
      const sku = uniqueSku('SQL');
      const res = await api.put(itemPath(sku), fields({ name }), { token: admin });
      expect(res.status).toBe(201);
      expect(res.body.name).toBe(name);
      expect((await api.get(itemPath(sku))).body.name).toBe(name);
    }
    expect((await api.get('/inventory/items')).status).toBe(200);
  });
});

describe('GET /inventory/items/{sku}', () => {
  test('is public: 200 the item without a token', async () => {
    const sku = uniqueSku('PUB');
    const stocked = await api.stock(admin, sku, 1234, 5);
    const res = await api.get(itemPath(sku));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sku, name: `Item ${sku}`, priceCents: 1234, available: 5 });
    expect(res.body).toEqual(stocked);
  });

  test('an unknown sku is a 404 problem', async () => {
    const res = await api.get(itemPath(uniqueSku('NOPE')));
    expect(isProblem(res, 404)).toBe(true);
    expect(res.body.type).toBe('urn:bunshop:problem:not-found');
  });

  test('skus are case-sensitive', async () => {
    const sku = `case-${Date.now().toString(36)}-abc`;
    await api.stock(admin, sku, 10, 1);
    expect(isProblem(await api.get(itemPath(sku.toUpperCase())), 404)).toBe(true);
  });

  test('a method the item path does not serve is 405 with Allow', async () => {
    const res = await api.request('DELETE', itemPath(uniqueSku('M')), undefined, { token: admin });
    expect(isProblem(res, 405)).toBe(true);
    const allow = (res.headers.get('allow') ?? '').split(/,\s*/);
    expect(allow).toContain('GET');
    expect(allow).toContain('PUT');
  });
});
