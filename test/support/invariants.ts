import type { Client } from './client.ts';

export interface Shopper {
  token: string;
  depositedCents: number;
}

export interface Ledger {
  kind: 'deposit' | 'charge' | 'refund';
  amountCents: number;
  orderId?: string;
}

export interface Report {
  orders: number;
  confirmed: number;
  rejected: number;
  lost: number;
  stuck: number;
  doubleCharged: number;
  oversold: number;
  moneyMismatch: number;
}

async function all<T>(api: Client, path: string, token?: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const res: { status: number; text: string; body: any } = await api.get(
      `${path}?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { token },
    );
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return items;
}

/**
 * Checks RELIABILITY.md's I1-I4 through the public API once the system is at rest:
 * every order final, stock conserved per sku, money conserved per user, one charge per
 * confirmed order and a net charge of zero for rejected ones.
 */
export async function checkInvariants(
  api: Client,
  shoppers: Shopper[],
  stocked: Map<string, number>,
  acknowledged: Set<string>,
  settleMs = 30_000,
): Promise<Report> {
  const report: Report = {
    orders: 0,
    confirmed: 0,
    rejected: 0,
    lost: 0,
    stuck: 0,
    doubleCharged: 0,
    oversold: 0,
    moneyMismatch: 0,
  };
  const sold = new Map<string, number>();
  const seen = new Set<string>();
  const until = Date.now() + settleMs;
  for (const shopper of shoppers) {
    let orders = await all<any>(api, '/orders', shopper.token);
    while (orders.some((o) => o.status === 'PENDING') && Date.now() < until) {
      await Bun.sleep(200);
      orders = await all<any>(api, '/orders', shopper.token);
    }
    const ledger = await all<Ledger>(api, '/accounts/me/transactions', shopper.token);
    const balance = (await api.get('/accounts/me', { token: shopper.token })).body
      .balanceCents as number;
    const perOrder = new Map<string, { charges: number; net: number }>();
    for (const e of ledger) {
      if (!e.orderId) continue;
      const p = perOrder.get(e.orderId) ?? { charges: 0, net: 0 };
      if (e.kind === 'charge') p.charges += 1;
      p.net += e.amountCents;
      perOrder.set(e.orderId, p);
    }
    let charged = 0;
    for (const o of orders) {
      seen.add(o.id);
      report.orders += 1;
      const p = perOrder.get(o.id) ?? { charges: 0, net: 0 };
      if (p.charges > 1) report.doubleCharged += 1;
      if (o.status === 'PENDING') report.stuck += 1;
      else if (o.status === 'CONFIRMED') {
        report.confirmed += 1;
        if (p.charges !== 1 || p.net !== -o.totalCents) report.moneyMismatch += 1;
        charged += o.totalCents;
        for (const line of o.items) sold.set(line.sku, (sold.get(line.sku) ?? 0) + line.qty);
      } else {
        report.rejected += 1;
        if (p.net !== 0 || !o.reason) report.moneyMismatch += 1;
      }
    }
    const ledgerSum = ledger.reduce((s, e) => s + e.amountCents, 0);
    if (ledgerSum !== balance || balance !== shopper.depositedCents - charged || balance < 0)
      report.moneyMismatch += 1;
  }
  for (const id of acknowledged) if (!seen.has(id)) report.lost += 1;
  for (const [sku, initial] of stocked) {
    const item = (await api.get(`/inventory/items/${sku}`)).body;
    if (item.available < 0 || item.available + (sold.get(sku) ?? 0) !== initial)
      report.oversold += 1;
  }
  return report;
}

export const summary = (fields: Record<string, string | number>) =>
  Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

export const violations = (r: Report) =>
  r.lost + r.stuck + r.doubleCharged + r.oversold + r.moneyMismatch;
