import { and, eq, gte, sql } from 'drizzle-orm';
import type { Tx } from '../../src/db/types.ts';
import { AppError } from '../../src/errors.ts';
import { items, type ReservationStatus, reservationLines, reservations } from './schema.ts';

export const rejection = (reason: 'out_of_stock' | 'unknown_item', sku: string) =>
  new AppError(
    'unprocessable',
    reason === 'out_of_stock' ? `Not enough stock of ${sku}.` : `No item ${sku}.`,
    {
      reason,
    },
  );

/** Claims the order's reservation row, or returns the status it already has. */
export async function claim(tx: Tx, orderId: string, status: ReservationStatus, now: Date) {
  const [inserted] = await tx
    .insert(reservations)
    .values({ orderId, status, createdAt: now, updatedAt: now })
    .onConflictDoNothing()
    .returning();
  if (inserted) return { claimed: true as const };
  const [existing] = await tx
    .select()
    .from(reservations)
    .where(eq(reservations.orderId, orderId))
    .for('update');
  return { claimed: false as const, existing: existing! };
}

/** Moves each line from available to reserved with a conditional update (never read-then-write). */
export async function takeStock(tx: Tx, orderId: string, lines: { sku: string; qty: number }[]) {
  // Sorted so that concurrent reservations lock rows in one order and cannot deadlock.
  for (const line of [...lines].sort((a, b) => (a.sku < b.sku ? -1 : 1))) {
    const [taken] = await tx
      .update(items)
      .set({
        available: sql`${items.available} - ${line.qty}`,
        reserved: sql`${items.reserved} + ${line.qty}`,
      })
      .where(and(eq(items.sku, line.sku), gte(items.available, line.qty)))
      .returning({ sku: items.sku });
    if (!taken) {
      const [exists] = await tx
        .select({ sku: items.sku })
        .from(items)
        .where(eq(items.sku, line.sku));
      throw rejection(exists ? 'out_of_stock' : 'unknown_item', line.sku);
    }
    await tx.insert(reservationLines).values({ orderId, sku: line.sku, qty: line.qty });
  }
}

/** Applies a reservation's lines to the counters: back to available, or on to sold. */
export async function settle(tx: Tx, orderId: string, to: 'available' | 'sold') {
  const lines = await tx
    .select()
    .from(reservationLines)
    .where(eq(reservationLines.orderId, orderId));
  for (const line of [...lines].sort((a, b) => (a.sku < b.sku ? -1 : 1))) {
    await tx
      .update(items)
      .set({
        reserved: sql`${items.reserved} - ${line.qty}`,
        [to]: sql`${items[to]} + ${line.qty}`,
      })
      .where(eq(items.sku, line.sku));
  }
}

export async function setStatus(
  tx: Tx,
  orderId: string,
  status: ReservationStatus,
  now: Date,
  reason?: string,
) {
  await tx
    .update(reservations)
    .set({ status, updatedAt: now, ...(reason ? { reason } : {}) })
    .where(eq(reservations.orderId, orderId));
}
