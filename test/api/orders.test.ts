import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type Client, client, isProblem, uniqueSku } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';
import {
  availableOf,
  type Buyer,
  balanceOf,
  expectMoneyConsistent,
  expectOrderShape,
  ledgerOf,
  type Order,
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

/** A fresh sku with the given price and stock. */
async function item(priceCents: number, available: number, prefix = 'ORD'): Promise<string> {
  const sku = uniqueSku(prefix);
  await api.stock(adminToken, sku, priceCents, available);
  return sku;
}

async function buyer(depositCents = 0): Promise<Buyer> {
  const b = await api.newUser('buyer');
  if (depositCents > 0) await api.deposit(b.token, depositCents);
  return b;
}

const place = (token: string, items: unknown, headers?: Record<string, string>) =>
  api.post<Order>('/orders', { items }, { token, headers });

describe('POST /orders', () => {
  test('confirms an order: 201, the order, its Location, stock sold and one charge', async () => {
    const a = await item(250, 5);
    const b = await item(1_000, 3);
    const user = await buyer(10_000);
    const res = await place(user.token, [
      { sku: a, qty: 2 },
      { sku: b, qty: 3 },
    ]);
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toStartWith('application/json');
    expectOrderShape(res.body, user.id);
    expect(res.body.status).toBe('CONFIRMED');
    expect(res.body.items).toEqual([
      { sku: a, qty: 2, unitPriceCents: 250 },
      { sku: b, qty: 3, unitPriceCents: 1_000 },
    ]);
    expect(res.body.totalCents).toBe(3_500);
    expect(res.headers.get('location')).toBe(`/orders/${res.body.id}`);

    const again = await api.get(res.headers.get('location')!, { token: user.token });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
    expect(await availableOf(api, a)).toBe(3);
    expect(await availableOf(api, b)).toBe(0);
    expect(await balanceOf(api, user.token)).toBe(6_500);
    const charges = (await ledgerOf(api, user.token)).filter((e) => e.kind === 'charge');
    expect(charges.map((e) => [e.orderId, e.amountCents])).toEqual([[res.body.id, -3_500]]);
    await expectMoneyConsistent(api, user.token);
  });

  test('takes prices from inventory and ignores fields a client may not set', async () => {
    const sku = await item(700, 10);
    const user = await buyer(5_000);
    const other = await buyer();
    const res = await api.post<Order>(
      '/orders',
      {
        id: '00000000-0000-7000-8000-000000000000',
        userId: other.id,
        status: 'REJECTED',
        reason: 'out_of_stock',
        totalCents: 1,
        items: [{ sku, qty: 2, unitPriceCents: 1, totalCents: 1 }],
      },
      { token: user.token },
    );
    expect(res.status).toBe(201);
    expectOrderShape(res.body, user.id);
    expect(res.body.id).not.toBe('00000000-0000-7000-8000-000000000000');
    expect(res.body.status).toBe('CONFIRMED');
    expect(res.body.items).toEqual([{ sku, qty: 2, unitPriceCents: 700 }]);
    expect(res.body.totalCents).toBe(1_400);
    expect(await balanceOf(api, user.token)).toBe(3_600);
    expect(await ordersOf(api, other.token)).toEqual([]);
  });

  test('rejects out_of_stock and leaves stock and money as they were', async () => {
    const plenty = await item(100, 10);
    const scarce = await item(100, 1);
    const user = await buyer(5_000);
    const res = await place(user.token, [
      { sku: plenty, qty: 3 },
      { sku: scarce, qty: 2 },
    ]);
    expect(res.status).toBe(201);
    expectOrderShape(res.body, user.id);
    expect(res.body).toMatchObject({ status: 'REJECTED', reason: 'out_of_stock', totalCents: 500 });
    expect(res.headers.get('location')).toBe(`/orders/${res.body.id}`);
    expect(await availableOf(api, plenty)).toBe(10);
    expect(await availableOf(api, scarce)).toBe(1);
    expect(await balanceOf(api, user.token)).toBe(5_000);
    expect((await ledgerOf(api, user.token)).filter((e) => e.orderId)).toEqual([]);
    await expectMoneyConsistent(api, user.token);
  });

  test('rejects insufficient_funds: balance unchanged, reserved stock released', async () => {
    const sku = await item(600, 4);
    const user = await buyer(1_000);
    const res = await place(user.token, [{ sku, qty: 2 }]);
    expect(res.status).toBe(201);
    expectOrderShape(res.body, user.id);
    expect(res.body).toMatchObject({
      status: 'REJECTED',
      reason: 'insufficient_funds',
      totalCents: 1_200,
    });
    expect(await availableOf(api, sku)).toBe(4);
    expect(await balanceOf(api, user.token)).toBe(1_000);
    await expectMoneyConsistent(api, user.token);

    // The released stock is really sellable again.
    const rich = await buyer(10_000);
    const later = await place(rich.token, [{ sku, qty: 4 }]);
    expect(later.body.status).toBe('CONFIRMED');
    expect(await availableOf(api, sku)).toBe(0);
  });

  test('a buyer with no deposit at all is rejected insufficient_funds', async () => {
    const sku = await item(1, 2);
    const user = await buyer();
    const res = await place(user.token, [{ sku, qty: 1 }]);
    expect(res.body).toMatchObject({ status: 'REJECTED', reason: 'insufficient_funds' });
    expect(await availableOf(api, sku)).toBe(2);
    expect(await balanceOf(api, user.token)).toBe(0);
  });

  test('rejects unknown_item and touches neither the known lines nor the money', async () => {
    const known = await item(100, 5);
    const user = await buyer(5_000);
    const missing = uniqueSku('NOPE');
    const res = await place(user.token, [
      { sku: known, qty: 1 },
      { sku: missing, qty: 1 },
    ]);
    expect(res.status).toBe(201);
    expectOrderShape(res.body, user.id);
    expect(res.body).toMatchObject({ status: 'REJECTED', reason: 'unknown_item' });
    expect(res.body.items.map((l) => l.sku)).toEqual([known, missing]);
    expect(await availableOf(api, known)).toBe(5);
    expect(await balanceOf(api, user.token)).toBe(5_000);
    expect((await api.get(`/orders/${res.body.id}`, { token: user.token })).body).toEqual(res.body);
  });

  test('a free item (price 0) confirms with total 0 and a zero charge at most', async () => {
    const sku = await item(0, 1);
    const user = await buyer();
    const res = await place(user.token, [{ sku, qty: 1 }]);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'CONFIRMED', totalCents: 0 });
    expect(await availableOf(api, sku)).toBe(0);
    expect(await balanceOf(api, user.token)).toBe(0);
  });

  test('a total over 2^53 - 1 cents is 422, not a 5xx, and has no effect', async () => {
    const skus = [];
    for (let i = 0; i < 20; i++) skus.push(await item(Number.MAX_SAFE_INTEGER, 100, 'BIG'));
    const user = await buyer(100_000);
    // Just past 2^53, and past what a Postgres bigint holds.
    for (const lines of [[{ sku: skus[0], qty: 2 }], skus.map((sku) => ({ sku, qty: 100 }))]) {
      const res = await place(user.token, lines);
      expect(isProblem(res, 422)).toBe(true);
    }
    expect(await ordersOf(api, user.token)).toEqual([]);
    for (const sku of skus) expect(await availableOf(api, sku)).toBe(100);
    expect(await balanceOf(api, user.token)).toBe(100_000);
  });

  test('needs a signed-in caller', async () => {
    const sku = await item(100, 1);
    const anonymous = await api.post('/orders', { items: [{ sku, qty: 1 }] });
    expect(isProblem(anonymous, 401)).toBe(true);
    expect(anonymous.headers.get('www-authenticate')).toStartWith('Bearer');
    const forged = await place('not.a.token', [{ sku, qty: 1 }]);
    expect(isProblem(forged, 401)).toBe(true);
    expect(await availableOf(api, sku)).toBe(1);
  });
});
