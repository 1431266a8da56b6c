import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type Client, client, isProblem, uniqueSku } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';
import type { Buyer, Order } from './orders-support.ts';

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
  const sku = uniqueSku('READ');
  await api.stock(adminToken, sku, priceCents, available);
  return sku;
}

async function buyer(depositCents = 0): Promise<Buyer> {
  const b = await api.newUser('reader');
  if (depositCents > 0) await api.deposit(b.token, depositCents);
  return b;
}

const place = (token: string, items: unknown) => api.post<Order>('/orders', { items }, { token });

describe('GET /orders', () => {
  let user: Buyer;
  let placed: Order[];

  beforeAll(async () => {
    const sku = await item(10, 100);
    user = await buyer(100_000);
    placed = [];
    for (let i = 1; i <= 5; i++) {
      const res = await place(user.token, [{ sku, qty: i }]);
      expect(res.status).toBe(201);
      placed.push(res.body);
    }
  });

  test("lists only the caller's orders, newest first", async () => {
    const res = await api.get('/orders', { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.items).toEqual([...placed].reverse());
    const stranger = await buyer();
    expect(await api.get('/orders', { token: stranger.token })).toMatchObject({
      status: 200,
      body: { items: [], nextCursor: null },
    });
  });

  test('pages with limit and cursor, without gaps or repeats', async () => {
    const seen: Order[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const res = await api.get(`/orders?limit=2${query}`, { token: user.token });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...placed].reverse());
  });

  test('a limit outside 1..100 is 400', async () => {
    for (const limit of ['0', '101', '-1', '1.5', 'abc', '', '1e2']) {
      const res = await api.get(`/orders?limit=${limit}`, { token: user.token });
      expect(isProblem(res, 400)).toBe(true);
    }
    expect((await api.get('/orders?limit=100', { token: user.token })).status).toBe(200);
  });

  test('a cursor the server did not issue for this list is 400', async () => {
    const first = await api.get('/orders?limit=1', { token: user.token });
    const issued: string = first.body.nextCursor;
    const [body, mac] = issued.split('.');
    const forgedBody = Buffer.from(JSON.stringify(['orders', placed[0]!.id])).toString('base64url');
    const items = await api.get('/inventory/items?limit=1');
    const foreign = items.body.nextCursor as string | null;
    const forged = [
      'garbage',
      `${body}.`,
      `${body}.${mac!.slice(0, -1)}${mac!.endsWith('A') ? 'B' : 'A'}`,
      `${forgedBody}.${mac}`,
      placed[0]!.id,
      ...(foreign ? [foreign] : []),
    ];
    for (const cursor of forged) {
      const res = await api.get(`/orders?cursor=${encodeURIComponent(cursor)}`, {
        token: user.token,
      });
      expect(isProblem(res, 400)).toBe(true);
    }
  });

  test('needs a signed-in caller', async () => {
    expect(isProblem(await api.get('/orders'), 401)).toBe(true);
  });
});

describe('GET /orders/{id}', () => {
  let owner: Buyer;
  let order: Order;

  beforeAll(async () => {
    const sku = await item(50, 10);
    owner = await buyer(1_000);
    order = (await place(owner.token, [{ sku, qty: 1 }])).body;
  });

  test('the owner reads it', async () => {
    const res = await api.get(`/orders/${order.id}`, { token: owner.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(order);
  });

  test('an admin reads it', async () => {
    const res = await api.get(`/orders/${order.id}`, { token: adminToken });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(order);
  });

  test('another user gets 404, the same as for an order that does not exist', async () => {
    const other = await buyer();
    const hidden = await api.get(`/orders/${order.id}`, { token: other.token });
    const absent = await api.get('/orders/01900000-0000-7000-8000-000000000000', {
      token: other.token,
    });
    expect(isProblem(hidden, 404)).toBe(true);
    expect(isProblem(absent, 404)).toBe(true);
    expect(hidden.body).toEqual(absent.body);
  });

  test('a malformed id is 404, never 400 or 5xx', async () => {
    for (const id of ['nope', '123', `${order.id}x`, "1' or '1'='1", '%00', 'a'.repeat(300)]) {
      const res = await api.get(`/orders/${id}`, { token: owner.token });
      expect(isProblem(res, 404)).toBe(true);
    }
  });

  test('needs a signed-in caller', async () => {
    expect(isProblem(await api.get(`/orders/${order.id}`), 401)).toBe(true);
  });
});
