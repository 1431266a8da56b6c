import { and, eq, gte, sql } from 'drizzle-orm';
import { placeholder, placeholders, statement } from '../../src/db/statement.ts';
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

// The order path's statements, built once (src/db/statement.ts).
const claimRow = statement<
  { orderId: string; status: ReservationStatus; now: Date },
  { orderId: string }[]
>((on) =>
  on
    .insert(reservations)
    .values({
      orderId: sql.placeholder('orderId'),
      status: sql.placeholder('status'),
      createdAt: sql.placeholder('now'),
      updatedAt: sql.placeholder('now'),
    })
    .onConflictDoNothing()
    .returning({ orderId: reservations.orderId }),
);
const take = statement<{ sku: string; qty: number }, { sku: string }[]>((on) =>
  on
    .update(items)
    .set({
      available: sql`${items.available} - ${sql.placeholder('qty')}`,
      reserved: sql`${items.reserved} + ${sql.placeholder('qty')}`,
    })
    .where(and(eq(items.sku, sql.placeholder('sku')), gte(items.available, sql.placeholder('qty'))))
    .returning({ sku: items.sku }),
);
const addLine = statement<{ orderId: string; sku: string; qty: number }, unknown>((on) =>
  on.insert(reservationLines).values(placeholders('orderId', 'sku', 'qty')),
);
const linesOf = statement<{ orderId: string }, { sku: string; qty: number }[]>((on) =>
  on
    .select({ sku: reservationLines.sku, qty: reservationLines.qty })
    .from(reservationLines)
    .where(eq(reservationLines.orderId, sql.placeholder('orderId'))),
);
const moveTo = {
  available: settleTo('available'),
  sold: settleTo('sold'),
};
function settleTo(to: 'available' | 'sold') {
  return statement<{ sku: string; qty: number }, unknown>((on) =>
    on
      .update(items)
      .set({
        reserved: sql`${items.reserved} - ${sql.placeholder('qty')}`,
        [to]: sql`${items[to]} + ${sql.placeholder('qty')}`,
      })
      .where(eq(items.sku, sql.placeholder('sku'))),
  );
}
/** The usual commit in one write: a reserved reservation becomes committed. */
export const commitReserved = statement<{ orderId: string; now: Date }, { orderId: string }[]>(
  (on) =>
    on
      .update(reservations)
      .set({ status: 'committed', updatedAt: placeholder(reservations.updatedAt, 'now') })
      .where(
        and(
          eq(reservations.orderId, sql.placeholder('orderId')),
          eq(reservations.status, 'reserved'),
        ),
      )
      .returning({ orderId: reservations.orderId }),
);

/** Claims the order's reservation row, or returns the status it already has. */
export async function claim(tx: Tx, orderId: string, status: ReservationStatus, now: Date) {
  const [inserted] = await claimRow(tx, { orderId, status, now });
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
    const [taken] = await take(tx, line);
    if (!taken) {
      const [exists] = await tx
        .select({ sku: items.sku })
        .from(items)
        .where(eq(items.sku, line.sku));
      throw rejection(exists ? 'out_of_stock' : 'unknown_item', line.sku);
    }
    await addLine(tx, { orderId, sku: line.sku, qty: line.qty });
  }
}

/** Applies a reservation's lines to the counters: back to available, or on to sold. */
export async function settle(tx: Tx, orderId: string, to: 'available' | 'sold') {
  const lines = await linesOf(tx, { orderId });
  for (const line of [...lines].sort((a, b) => (a.sku < b.sku ? -1 : 1))) {
    await moveTo[to](tx, line);
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
