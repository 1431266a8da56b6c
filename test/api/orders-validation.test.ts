import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type Client, client, isProblem, type Reply, uniqueSku } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';
import { availableOf, type Buyer, balanceOf, ordersOf } from './orders-support.ts';

let target: Target;
let api: Client;
let adminToken: string;
let user: Buyer;
let sku: string;
const skus: string[] = [];

beforeAll(async () => {
  target = await startTarget();
  api = client(target.baseUrl);
  adminToken = await api.adminToken();
  user = await api.newUser('validation');
  await api.deposit(user.token, 1_000_000);
  sku = uniqueSku('VAL');
  await api.stock(adminToken, sku, 100, 1_000);
  for (let i = 0; i < 21; i++) {
    skus.push(uniqueSku(`V${i}`));
    await api.stock(adminToken, skus[i]!, 1, 10);
  }
}, 60_000);
afterAll(() => target?.stop());

const post = (body: unknown) => api.post('/orders', body, { token: user.token });
const postRaw = (raw: string, contentType = 'application/json') =>
  api.post('/orders', undefined, {
    token: user.token,
    raw,
    headers: { 'content-type': contentType },
  });

/** A 400 validation problem; a body that is not JSON at all may come without errors[]. */
function expectBadBody(res: Reply): void {
  expect(isProblem(res, 400)).toBe(true);
  expect(res.body.type).toBe('urn:bunshop:problem:validation');
  if (res.body.errors !== undefined) expectFieldErrors(res);
}

/** A 400 validation problem whose errors[] names `path` (when given). */
function expectInvalid(res: Reply, path?: string): void {
  expectBadBody(res);
  const errors = expectFieldErrors(res);
  if (path !== undefined) expect(errors.map((e) => e.path)).toContain(path);
}

/** errors[] is a short list of `{ path, message }` strings, whatever the input's size. */
function expectFieldErrors(res: Reply): { path: string; message: string }[] {
  const errors: { path: string; message: string }[] = res.body.errors;
  expect(Array.isArray(errors)).toBe(true);
  expect(errors.length).toBeGreaterThan(0);
  expect(errors.length).toBeLessThanOrEqual(10);
  for (const e of errors) {
    expect(typeof e.path).toBe('string');
    expect(typeof e.message).toBe('string');
    expect(e.message.length).toBeGreaterThan(0);
  }
  return errors;
}

describe('lines', () => {
  test('no line at all is 400', async () => {
    expectInvalid(await post({ items: [] }), 'items');
  });

  test('21 lines is 400; 20 lines is accepted', async () => {
    const lines = skus.map((s) => ({ sku: s, qty: 1 }));
    expectInvalid(await post({ items: lines }), 'items');
    const twenty = await post({ items: lines.slice(0, 20) });
    expect(twenty.status).toBe(201);
    expect(twenty.body.status).toBe('CONFIRMED');
    expect(twenty.body.items).toHaveLength(20);
    expect(twenty.body.totalCents).toBe(20);
  });

  test('the same sku twice is 400, even with different quantities', async () => {
    expectInvalid(
      await post({
        items: [
          { sku, qty: 1 },
          { sku, qty: 1 },
        ],
      }),
      'items',
    );
    expectInvalid(
      await post({
        items: [
          { sku, qty: 1 },
          { sku: skus[0], qty: 1 },
          { sku, qty: 2 },
        ],
      }),
      'items',
    );
  });

  test('items that is not an array of lines is 400', async () => {
    for (const items of [{}, { sku, qty: 1 }, 'x', 1, true, null, [null], [1], ['x'], [[]]]) {
      expectInvalid(await post({ items }));
    }
    expectInvalid(await post({}), 'items');
    expectInvalid(await post({ lines: [{ sku, qty: 1 }] }), 'items');
    expectInvalid(await post([{ sku, qty: 1 }]));
    expectInvalid(await postRaw('null'));
    expectInvalid(await postRaw('"items"'));
  });
});

describe('qty', () => {
  const bad: unknown[] = [0, 101, -1, 1.5, '1', 1e308, null, true, {}, [1], 2 ** 53, -0.5];
  for (const qty of bad) {
    test(`qty ${JSON.stringify(qty)} is 400`, async () => {
      expectInvalid(await post({ items: [{ sku, qty }] }), 'items.0.qty');
    });
  }

  test('a missing qty is 400', async () => {
    expectInvalid(await post({ items: [{ sku }] }), 'items.0.qty');
  });

  test('qty past the float range (1e400) is 400', async () => {
    expectInvalid(await postRaw(`{"items":[{"sku":"${sku}","qty":1e400}]}`), 'items.0.qty');
  });

  test('only the bad line is named', async () => {
    const res = await post({
      items: [
        { sku: skus[0], qty: 1 },
        { sku: skus[1], qty: 0 },
      ],
    });
    expectInvalid(res, 'items.1.qty');
    expect(res.body.errors.map((e: { path: string }) => e.path)).not.toContain('items.0.qty');
  });

  test('qty 1 and 100 are the bounds and are accepted', async () => {
    for (const qty of [1, 100]) {
      const res = await post({ items: [{ sku, qty }] });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ status: 'CONFIRMED', totalCents: qty * 100 });
    }
  });
});

describe('sku', () => {
  const bad: unknown[] = [
    '',
    'a b',
    'a/b',
    '../etc',
    'caf\u00e9',
    'x'.repeat(65),
    "x'; drop table inventory.items; --",
    'a.b.>',
    123,
    null,
    ['a'],
    { $ne: 1 },
  ];
  for (const s of bad) {
    test(`sku ${JSON.stringify(s).slice(0, 40)} is 400`, async () => {
      expectInvalid(await post({ items: [{ sku: s, qty: 1 }] }), 'items.0.sku');
    });
  }

  test('a sku with a NUL character is 400', async () => {
    expectBadBody(await post({ items: [{ sku: 'nul\u0000', qty: 1 }] }));
  });

  test('a missing sku is 400', async () => {
    expectInvalid(await post({ items: [{ qty: 1 }] }), 'items.0.sku');
  });

  test('a well-formed 64-character sku that does not exist is unknown_item, not 400', async () => {
    const res = await post({ items: [{ sku: 'Z'.repeat(64), qty: 1 }] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'REJECTED', reason: 'unknown_item' });
  });
});

describe('shape and size', () => {
  test('deep nesting is 400, never a crash', async () => {
    const depth = 20_000;
    expectInvalid(await postRaw(`{"items":${'['.repeat(depth)}${']'.repeat(depth)}}`));
    const nested = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    expectInvalid(await postRaw(`{"items":[{"sku":${nested},"qty":1}]}`), 'items.0.sku');
    expectInvalid(await postRaw(`{"items":[{"sku":"${sku}","qty":${nested}}]}`), 'items.0.qty');
  });

  test('a huge array under the size limit is one 400 error, not one per line', async () => {
    for (const line of [{}, 1, 'x']) {
      const res = await post({ items: Array.from({ length: 10_000 }, () => line) });
      expect(res.text.length).toBeLessThan(64 * 1024);
      expectInvalid(res, 'items');
    }
  });

  test('a huge array over the size limit is 413', async () => {
    const items = Array.from({ length: 10_000 }, (_, i) => ({ sku: `S${i}`, qty: 1 }));
    expect(isProblem(await post({ items }), 413)).toBe(true);
  });

  test('invalid JSON is 400 and a non-JSON content type is 415', async () => {
    expectBadBody(await postRaw(`{"items":[{"sku":"${sku}","qty":1}]`));
    const plain = await postRaw(JSON.stringify({ items: [{ sku, qty: 1 }] }), 'text/plain');
    expect(isProblem(plain, 415)).toBe(true);
  });

  test('__proto__ and constructor keys are ignored or refused, never applied', async () => {
    const raw = `{"__proto__":{"status":"CONFIRMED"},"constructor":{"x":1},"items":[{"sku":"${sku}","qty":1,"__proto__":{"unitPriceCents":0}}]}`;
    const res = await postRaw(raw);
    expect(res.status).toBeLessThan(500);
    if (res.status === 201) {
      expect(res.body.items).toEqual([{ sku, qty: 1, unitPriceCents: 100 }]);
      expect(res.body.totalCents).toBe(100);
    } else expectInvalid(res);
  });
});

describe('nothing changes on a 4xx', () => {
  test('a fresh buyer sending every bad body has no order, no charge and moved no stock', async () => {
    const fresh = await api.newUser('bad-bodies');
    await api.deposit(fresh.token, 5_000);
    const before = await availableOf(api, sku);
    const bodies: unknown[] = [
      { items: [] },
      { items: skus.map((s) => ({ sku: s, qty: 1 })) },
      {
        items: [
          { sku, qty: 1 },
          { sku, qty: 1 },
        ],
      },
      { items: [{ sku, qty: 0 }] },
      { items: [{ sku, qty: '1' }] },
      { items: [{ sku: 'a b', qty: 1 }] },
      { items: 'x' },
    ];
    for (const body of bodies) {
      const res = await api.post('/orders', body, { token: fresh.token });
      expectInvalid(res);
    }
    expect(await ordersOf(api, fresh.token)).toEqual([]);
    expect(await balanceOf(api, fresh.token)).toBe(5_000);
    expect(await availableOf(api, sku)).toBe(before);
    for (const s of skus) expect(await availableOf(api, s)).toBeGreaterThanOrEqual(9);
  });
});
