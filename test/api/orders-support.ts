import { expect } from 'bun:test';
import postgres from 'postgres';
import type { Client, Reply } from '../support/client.ts';
import type { Target } from '../support/target.ts';

/** An order as API.md shapes it. */
export interface Order {
  id: string;
  userId: string;
  status: 'PENDING' | 'CONFIRMED' | 'REJECTED';
  reason?: string;
  items: { sku: string; qty: number; unitPriceCents: number }[];
  totalCents: number;
  createdAt: string;
  updatedAt: string;
}

export interface LedgerEntry {
  id: string;
  kind: 'deposit' | 'charge' | 'refund';
  amountCents: number;
  orderId?: string;
  createdAt: string;
}

export type Buyer = Awaited<ReturnType<Client['newUser']>>;

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Every item of a paginated list, following nextCursor to the end. */
export async function allPages<T>(api: Client, path: string, token: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const query = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const res: Reply = await api.get(`${path}?limit=100${query}`, { token });
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return items;
}

export const ordersOf = (api: Client, token: string) => allPages<Order>(api, '/orders', token);
export const ledgerOf = (api: Client, token: string) =>
  allPages<LedgerEntry>(api, '/accounts/me/transactions', token);

export async function balanceOf(api: Client, token: string): Promise<number> {
  const res = await api.get('/accounts/me', { token });
  if (res.status !== 200) throw new Error(`account: ${res.status} ${res.text}`);
  return res.body.balanceCents;
}

export async function availableOf(api: Client, sku: string): Promise<number> {
  const res = await api.get(`/inventory/items/${sku}`);
  if (res.status !== 200) throw new Error(`item ${sku}: ${res.status} ${res.text}`);
  return res.body.available;
}

/** Asserts the exact shape of an order: API.md's fields and nothing else. */
export function expectOrderShape(o: Order, userId: string): void {
  const keys = ['createdAt', 'id', 'items', 'status', 'totalCents', 'updatedAt', 'userId'];
  expect(Object.keys(o).sort()).toEqual(
    o.status === 'REJECTED' ? [...keys, 'reason'].sort() : keys,
  );
  expect(o.id).toMatch(uuid);
  expect(o.userId).toBe(userId);
  expect(o.createdAt).toMatch(iso);
  expect(o.updatedAt).toMatch(iso);
  expect(Date.parse(o.updatedAt)).toBeGreaterThanOrEqual(Date.parse(o.createdAt));
  for (const line of o.items)
    expect(Object.keys(line).sort()).toEqual(['qty', 'sku', 'unitPriceCents']);
  expect(o.totalCents).toBe(o.items.reduce((sum, l) => sum + l.qty * l.unitPriceCents, 0));
}

/**
 * I2 and I3 for one buyer at rest: the balance is the sum of the ledger and never negative;
 * a CONFIRMED order has exactly one charge of its total and no refund; a REJECTED order has
 * a net charge of 0 (no charge, or one charge and its refund); no entry names an unknown order.
 */
export async function expectMoneyConsistent(api: Client, token: string): Promise<void> {
  const [orders, ledger, balance] = await Promise.all([
    ordersOf(api, token),
    ledgerOf(api, token),
    balanceOf(api, token),
  ]);
  expect(balance).toBeGreaterThanOrEqual(0);
  expect(ledger.reduce((sum, e) => sum + e.amountCents, 0)).toBe(balance);
  const byOrder = Map.groupBy(
    ledger.filter((e) => e.orderId),
    (e) => e.orderId!,
  );
  const ids = new Set(orders.map((o) => o.id));
  for (const id of byOrder.keys()) expect(ids.has(id)).toBe(true);
  for (const o of orders) {
    expect(o.status).not.toBe('PENDING');
    const entries = byOrder.get(o.id) ?? [];
    const charges = entries.filter((e) => e.kind === 'charge');
    const refunds = entries.filter((e) => e.kind === 'refund');
    expect(charges.length).toBeLessThanOrEqual(1);
    if (o.status === 'CONFIRMED') {
      expect(charges.map((e) => e.amountCents)).toEqual([-o.totalCents]);
      expect(refunds).toEqual([]);
    } else {
      expect(refunds.length).toBe(charges.length);
      expect(entries.reduce((sum, e) => sum + e.amountCents, 0)).toBe(0);
    }
  }
}

/** A direct connection to the target's database, for invariants the API does not show. */
export function database(target: Target) {
  if (!target.databaseUrl) return undefined;
  return postgres(target.databaseUrl, { max: 2, onnotice: () => {} });
}
