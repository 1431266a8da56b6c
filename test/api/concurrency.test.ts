import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { type Client, client, uniqueSku } from '../support/client.ts';
import { testDb } from '../support/database.ts';
import { startTarget, type Target } from '../support/target.ts';
import {
  availableOf,
  type Buyer,
  balanceOf,
  database,
  expectMoneyConsistent,
  ledgerOf,
  type Order,
  ordersOf,
} from './orders-support.ts';

// Signing up a crowd of buyers hashes many passwords; the races themselves are quick.
setDefaultTimeout(60_000);

let target: Target;
let api: Client;
let adminToken: string;
/** What each sku was stocked with, and every order placed here, for the invariants at the end. */
const stocked = new Map<string, number>();
const placed: Order[] = [];
const buyers: Buyer[] = [];

beforeAll(async () => {
  target = await startTarget();
  api = client(target.baseUrl);
  adminToken = await api.adminToken();
}, 60_000);
afterAll(() => target?.stop());

async function item(priceCents: number, available: number): Promise<string> {
  const sku = uniqueSku('RACE');
  await api.stock(adminToken, sku, priceCents, available);
  stocked.set(sku, available);
  return sku;
}

async function buyers_(n: number, depositCents: number): Promise<Buyer[]> {
  const made = await Promise.all(Array.from({ length: n }, () => api.newUser('race')));
  if (depositCents > 0) await Promise.all(made.map((b) => api.deposit(b.token, depositCents)));
  buyers.push(...made);
  return made;
}

/** Places orders all at once; each answer is an order (201 final, or 202 then polled), never 5xx. */
async function placeAll(requests: { token: string; items: unknown }[]): Promise<Order[]> {
  const answers = await Promise.all(
    requests.map((r) => api.post<Order>('/orders', { items: r.items }, { token: r.token })),
  );
  for (const a of answers) expect([201, 202]).toContain(a.status);
  // A loaded machine may answer 202 at the request deadline; the order settles all the same.
  const orders = await Promise.all(
    answers.map((a, i) =>
      a.status === 202 ? api.settled(requests[i]!.token, a.body.id) : Promise.resolve(a.body),
    ),
  );
  placed.push(...orders);
  return orders;
}

/** An order event's payload as the outbox holds it. */
type Payload = { orderId: string; userId: string; totalCents: number; reason?: string };

const count = (orders: Order[], status: string, reason?: string) =>
  orders.filter((o) => o.status === status && (reason === undefined || o.reason === reason)).length;

describe('concurrent orders in one process', () => {
  test('20 buyers race for 5 units: exactly 5 confirmed, 15 out_of_stock', async () => {
    const sku = await item(100, 5);
    const racers = await buyers_(20, 1_000);
    const orders = await placeAll(
      racers.map((b) => ({ token: b.token, items: [{ sku, qty: 1 }] })),
    );
    expect(count(orders, 'CONFIRMED')).toBe(5);
    expect(count(orders, 'REJECTED', 'out_of_stock')).toBe(15);
    expect(await availableOf(api, sku)).toBe(0);
    const balances = await Promise.all(racers.map((b) => balanceOf(api, b.token)));
    expect(balances.filter((b) => b === 900)).toHaveLength(5);
    expect(balances.filter((b) => b === 1_000)).toHaveLength(15);
    for (const [i, o] of orders.entries()) {
      expect(balances[i]).toBe(o.status === 'CONFIRMED' ? 900 : 1_000);
    }
  });

  test('one buyer with 300 places 10 orders of 100 at once: 3 confirmed, 7 insufficient_funds', async () => {
    const sku = await item(100, 1_000);
    const [rich] = await buyers_(1, 300);
    const orders = await placeAll(
      Array.from({ length: 10 }, () => ({ token: rich!.token, items: [{ sku, qty: 1 }] })),
    );
    expect(count(orders, 'CONFIRMED')).toBe(3);
    expect(count(orders, 'REJECTED', 'insufficient_funds')).toBe(7);
    expect(await balanceOf(api, rich!.token)).toBe(0);
    const ledger = await ledgerOf(api, rich!.token);
    expect(ledger.reduce((sum, e) => sum + e.amountCents, 0)).toBe(0);
    const charges = ledger.filter((e) => e.kind === 'charge');
    expect(charges).toHaveLength(3);
    const confirmed = orders.filter((o) => o.status === 'CONFIRMED').map((o) => o.id);
    expect(charges.map((e) => e.orderId).sort()).toEqual(confirmed.sort());
    expect(await availableOf(api, sku)).toBe(997);
  });

  test('orders naming two skus in opposite orders neither deadlock nor oversell', async () => {
    const x = await item(10, 5);
    const y = await item(10, 5);
    const racers = await buyers_(16, 1_000);
    const orders = await placeAll(
      racers.map((b, i) => ({
        token: b.token,
        items:
          i % 2 === 0
            ? [
                { sku: x, qty: 1 },
                { sku: y, qty: 1 },
              ]
            : [
                { sku: y, qty: 1 },
                { sku: x, qty: 1 },
              ],
      })),
    );
    expect(count(orders, 'CONFIRMED')).toBe(5);
    expect(count(orders, 'REJECTED', 'out_of_stock')).toBe(11);
    expect(await availableOf(api, x)).toBe(0);
    expect(await availableOf(api, y)).toBe(0);
  });

  test('short of both stock and money at once, nothing is oversold or overcharged', async () => {
    const sku = await item(100, 8);
    const racers = await buyers_(10, 150);
    const orders = await placeAll(
      racers.flatMap((b) => [0, 1].map(() => ({ token: b.token, items: [{ sku, qty: 1 }] }))),
    );
    // A reservation later released for want of money may turn others away meanwhile.
    const confirmed = count(orders, 'CONFIRMED');
    expect(confirmed).toBeGreaterThan(0);
    expect(confirmed).toBeLessThanOrEqual(8);
    expect(await availableOf(api, sku)).toBe(8 - confirmed);
    for (const b of racers) {
      const mine = orders.filter((o) => o.userId === b.id);
      expect(count(mine, 'CONFIRMED')).toBeLessThanOrEqual(1);
      expect(await balanceOf(api, b.token)).toBe(150 - 100 * count(mine, 'CONFIRMED'));
    }
    for (const o of orders.filter((o) => o.status === 'REJECTED')) {
      expect(['out_of_stock', 'insufficient_funds']).toContain(o.reason!);
    }
  });
});

describe('invariants after the races', () => {
  test('I1: per sku, stocked - available is what confirmed orders bought', async () => {
    const bought = new Map<string, number>();
    for (const o of placed.filter((o) => o.status === 'CONFIRMED')) {
      for (const l of o.items) bought.set(l.sku, (bought.get(l.sku) ?? 0) + l.qty);
    }
    for (const [sku, initial] of stocked) {
      const available = await availableOf(api, sku);
      expect(available).toBeGreaterThanOrEqual(0);
      expect(initial - available).toBe(bought.get(sku) ?? 0);
    }
  });

  test('I2 and I3: every buyer’s ledger sums to the balance, one charge per confirmed order', async () => {
    for (const b of buyers) {
      await expectMoneyConsistent(api, b.token);
      const mine = placed.filter((o) => o.userId === b.id);
      expect((await ordersOf(api, b.token)).map((o) => o.id).sort()).toEqual(
        mine.map((o) => o.id).sort(),
      );
    }
  });

  test.skipIf(testDb !== 'postgres')(
    'I1 in the database: reserved 0, sold = confirmed',
    async () => {
      const sql = database(target)!;
      try {
        const rows = await sql<
          { sku: string; available: string; reserved: string; sold: string }[]
        >`
        select sku, available, reserved, sold from inventory.items where sku in ${sql([...stocked.keys()])}`;
        expect(rows).toHaveLength(stocked.size);
        for (const r of rows) {
          const sold = placed
            .filter((o) => o.status === 'CONFIRMED')
            .flatMap((o) => o.items)
            .filter((l) => l.sku === r.sku)
            .reduce((sum, l) => sum + l.qty, 0);
          expect(Number(r.reserved)).toBe(0);
          expect(Number(r.sold)).toBe(sold);
          expect(Number(r.available) + Number(r.reserved) + Number(r.sold)).toBe(
            stocked.get(r.sku)!,
          );
        }
      } finally {
        await sql.end();
      }
    },
  );

  test.skipIf(testDb !== 'postgres')(
    'events: one order.confirmed or order.rejected per order, all published',
    async () => {
      const [late] = await buyers_(1, 0);
      const unknown = await placeAll([
        { token: late!.token, items: [{ sku: uniqueSku('NONE'), qty: 1 }] },
      ]);
      expect(unknown[0]).toMatchObject({ status: 'REJECTED', reason: 'unknown_item' });
      const sql = database(target)!;
      try {
        const ids = placed.map((o) => o.id);
        const load = () => sql<{ event: string; payload: Payload; published: boolean }[]>`
          select event, payload, published_at is not null as published from "order".outbox
          where payload->>'orderId' in ${sql(ids)}`;
        let events = await load();
        // The relay publishes after commit; wait for it rather than assume how fast it is.
        for (let i = 0; i < 100 && events.some((e) => !e.published); i++) {
          await Bun.sleep(100);
          events = await load();
        }
        expect(events.every((e) => e.published)).toBe(true);
        expect(events).toHaveLength(placed.length);
        const byOrder = new Map(events.map((e) => [e.payload.orderId, e]));
        for (const o of placed) {
          const e = byOrder.get(o.id)!;
          const base = { orderId: o.id, userId: o.userId, totalCents: o.totalCents };
          if (o.status === 'CONFIRMED')
            expect(e).toMatchObject({ event: 'order.confirmed', payload: base });
          else
            expect(e).toMatchObject({
              event: 'order.rejected',
              payload: { ...base, reason: o.reason },
            });
        }
      } finally {
        await sql.end();
      }
    },
  );
});
