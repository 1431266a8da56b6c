import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type Client, client, isProblem, uniqueSku } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';
import {
  availableOf,
  type Buyer,
  balanceOf,
  expectMoneyConsistent,
  ledgerOf,
  ordersOf,
} from './orders-support.ts';

let target: Target;
let api: Client;
let adminToken: string;

beforeAll(async () => {
  target = await startTarget();
  api = client(target.baseUrl);
  adminToken = await api.adminToken();
}, 60_000);
afterAll(() => target?.stop());

async function item(priceCents: number, available: number): Promise<string> {
  const sku = uniqueSku('IDEM');
  await api.stock(adminToken, sku, priceCents, available);
  return sku;
}

async function buyer(depositCents: number): Promise<Buyer> {
  const b = await api.newUser('idem');
  if (depositCents > 0) await api.deposit(b.token, depositCents);
  return b;
}

const place = (token: string, items: unknown, key?: string) =>
  api.post(
    '/orders',
    { items },
    {
      token,
      headers: key === undefined ? {} : { 'idempotency-key': key },
    },
  );

const charges = async (token: string) =>
  (await ledgerOf(api, token)).filter((e) => e.kind === 'charge');

describe('Idempotency-Key on POST /orders', () => {
  test('a replay with the same body answers the first order again, with one charge', async () => {
    const sku = await item(300, 10);
    const user = await buyer(1_000);
    const key = `replay-${crypto.randomUUID()}`;
    const first = await place(user.token, [{ sku, qty: 2 }], key);
    expect(first.status).toBe(201);
    expect(first.body.status).toBe('CONFIRMED');
    for (let i = 0; i < 3; i++) {
      const again = await place(user.token, [{ sku, qty: 2 }], key);
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('location')).toBe(`/orders/${first.body.id}`);
    }
    expect((await ordersOf(api, user.token)).map((o) => o.id)).toEqual([first.body.id]);
    expect((await charges(user.token)).map((e) => e.orderId)).toEqual([first.body.id]);
    expect(await balanceOf(api, user.token)).toBe(400);
    expect(await availableOf(api, sku)).toBe(8);
    await expectMoneyConsistent(api, user.token);
  });

  test('a replay of a rejected order stays rejected, even once it could succeed', async () => {
    const sku = await item(100, 1);
    const user = await buyer(1_000);
    const key = `rejected-${crypto.randomUUID()}`;
    const first = await place(user.token, [{ sku, qty: 2 }], key);
    expect(first.body).toMatchObject({ status: 'REJECTED', reason: 'out_of_stock' });
    await api.stock(adminToken, sku, 100, 10);
    const again = await place(user.token, [{ sku, qty: 2 }], key);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(await availableOf(api, sku)).toBe(10);
    expect(await balanceOf(api, user.token)).toBe(1_000);
    expect(await ordersOf(api, user.token)).toHaveLength(1);
  });

  test('the same key with a different body is 422 and changes nothing', async () => {
    const a = await item(100, 10);
    const b = await item(100, 10);
    const user = await buyer(5_000);
    const key = `different-${crypto.randomUUID()}`;
    const first = await place(user.token, [{ sku: a, qty: 1 }], key);
    expect(first.body.status).toBe('CONFIRMED');
    const others = [
      [{ sku: a, qty: 2 }],
      [{ sku: b, qty: 1 }],
      [
        { sku: a, qty: 1 },
        { sku: b, qty: 1 },
      ],
    ];
    for (const items of others) {
      const res = await place(user.token, items, key);
      expect(isProblem(res, 422)).toBe(true);
      expect(res.body.type).toBe('urn:bunshop:problem:unprocessable');
    }
    expect(await ordersOf(api, user.token)).toEqual([first.body]);
    expect(await balanceOf(api, user.token)).toBe(4_900);
    expect(await availableOf(api, a)).toBe(9);
    expect(await availableOf(api, b)).toBe(10);
    // The key still answers its first order.
    expect((await place(user.token, [{ sku: a, qty: 1 }], key)).body).toEqual(first.body);
  });

  test('five concurrent requests with one key make exactly one order and one charge', async () => {
    const sku = await item(100, 50);
    const user = await buyer(10_000);
    const key = `concurrent-${crypto.randomUUID()}`;
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => place(user.token, [{ sku, qty: 1 }], key)),
    );
    const orders = await ordersOf(api, user.token);
    expect(orders).toHaveLength(1);
    const only = orders[0]!;
    const statuses = answers.map((r) => r.status).sort();
    for (const res of answers) {
      if (res.status === 409) {
        expect(isProblem(res, 409)).toBe(true);
        expect(res.body.type).toBe('urn:bunshop:problem:conflict');
      } else {
        expect([201, 202]).toContain(res.status);
        expect(res.body.id).toBe(only.id);
      }
    }
    // The request that created the order always answers it.
    expect(answers.some((r) => r.body?.id === only.id)).toBe(true);
    const settled = await api.settled(user.token, only.id);
    expect(settled.status).toBe('CONFIRMED');
    expect((await charges(user.token)).map((e) => e.orderId)).toEqual([only.id]);
    expect(await balanceOf(api, user.token)).toBe(9_900);
    expect(await availableOf(api, sku)).toBe(49);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
  });

  test('the same key from two users makes two independent orders', async () => {
    const sku = await item(100, 10);
    const alice = await buyer(1_000);
    const bob = await buyer(1_000);
    const key = `shared-${crypto.randomUUID()}`;
    const [a, b] = await Promise.all([
      place(alice.token, [{ sku, qty: 1 }], key),
      place(bob.token, [{ sku, qty: 2 }], key),
    ]);
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(a.body.id).not.toBe(b.body.id);
    expect(a.body).toMatchObject({ userId: alice.id, status: 'CONFIRMED', totalCents: 100 });
    expect(b.body).toMatchObject({ userId: bob.id, status: 'CONFIRMED', totalCents: 200 });
    expect(await balanceOf(api, alice.token)).toBe(900);
    expect(await balanceOf(api, bob.token)).toBe(800);
    expect(await availableOf(api, sku)).toBe(7);
  });

  test('without a key, two identical requests are two orders', async () => {
    const sku = await item(100, 10);
    const user = await buyer(1_000);
    const first = await place(user.token, [{ sku, qty: 1 }]);
    const second = await place(user.token, [{ sku, qty: 1 }]);
    expect(first.body.status).toBe('CONFIRMED');
    expect(second.body.status).toBe('CONFIRMED');
    expect(second.body.id).not.toBe(first.body.id);
    expect(await balanceOf(api, user.token)).toBe(800);
  });

  test('a key used for a deposit does not answer an order', async () => {
    const sku = await item(100, 10);
    const user = await buyer(0);
    const key = `deposit-${crypto.randomUUID()}`;
    const deposit = await api.post(
      '/accounts/me/deposits',
      { amountCents: 500 },
      { token: user.token, headers: { 'idempotency-key': key } },
    );
    expect(deposit.status).toBe(201);
    const res = await place(user.token, [{ sku, qty: 1 }], key);
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('CONFIRMED');
    expect(await balanceOf(api, user.token)).toBe(400);
  });
});

describe('Idempotency-Key validation', () => {
  let user: Buyer;
  let sku: string;

  beforeAll(async () => {
    sku = await item(1, 100);
    user = await buyer(10_000);
  });

  // A blank key arrives empty: fetch trims the edges of header values.
  const invalid = ['', ' ', 'k'.repeat(256), 'tab\there', 'caf\u00e9'];
  for (const key of invalid) {
    test(`key ${JSON.stringify(key).slice(0, 20)} (${key.length} chars) is 400, with no order`, async () => {
      const before = (await ordersOf(api, user.token)).length;
      const res = await place(user.token, [{ sku, qty: 1 }], key);
      expect(isProblem(res, 400)).toBe(true);
      expect(res.body.type).toBe('urn:bunshop:problem:validation');
      expect((await ordersOf(api, user.token)).length).toBe(before);
    });
  }

  test('a 255-character key and a 1-character key are accepted and replayed', async () => {
    for (const key of [`${'k'.repeat(254)}${crypto.randomUUID().at(-1)}`, '~']) {
      const first = await place(user.token, [{ sku, qty: 1 }], key);
      expect(first.status).toBe(201);
      const again = await place(user.token, [{ sku, qty: 1 }], key);
      expect(again.status).toBe(201);
      expect(again.body.id).toBe(first.body.id);
    }
  });

  test('a key with every printable ASCII character is accepted', async () => {
    let printable = '';
    for (let c = 0x21; c <= 0x7e; c++) printable += String.fromCharCode(c);
    const res = await place(user.token, [{ sku, qty: 1 }], `${printable} x`);
    expect(res.status).toBe(201);
  });
});
