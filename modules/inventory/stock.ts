import { eq, sql } from 'drizzle-orm';
import { isUniqueViolation } from '../../src/db/errors.ts';
import { placeholder, sqlStatement, statement } from '../../src/db/statement.ts';
import type { Queryable, Tx } from '../../src/db/types.ts';
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

/** Every path that changes items locks them in sku order, so that none can deadlock another. */
const bySku = (a: { sku: string }, b: { sku: string }) => (a.sku < b.sku ? -1 : 1);

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
const orderId = sql`${sql.placeholder('orderId')}::uuid`;
const sku = sql`${sql.placeholder('sku')}::text`;
const qty = sql`${sql.placeholder('qty')}::integer`;
/** Moves a line's quantity from available to reserved and records the line: one round trip. */
const takeLine = sqlStatement<{ orderId: string; sku: string; qty: number }, { sku: string }>(
  sql`with taken as (
    update ${items} set available = available - ${qty}, reserved = reserved + ${qty}
    where sku = ${sku} and available >= ${qty}
    returning sku)
  insert into ${reservationLines} (order_id, sku, qty)
  select ${orderId}, sku, ${qty} from taken
  returning sku`,
);
const linesOf = statement<{ orderId: string }, { sku: string; qty: number }[]>((on) =>
  on
    .select({ sku: reservationLines.sku, qty: reservationLines.qty })
    .from(reservationLines)
    .where(eq(reservationLines.orderId, sql.placeholder('orderId'))),
);
const unreserve = statement<{ sku: string; qty: number }, unknown>((on) =>
  on
    .update(items)
    .set({
      reserved: sql`${items.reserved} - ${sql.placeholder('qty')}`,
      available: sql`${items.available} + ${sql.placeholder('qty')}`,
    })
    .where(eq(items.sku, sql.placeholder('sku'))),
);
/**
 * The commit in one statement, so one round trip and no transaction to open: a reserved
 * reservation becomes committed and its lines move from reserved to sold. The items are
 * locked in sku order, as reservations lock them, so that concurrent commits cannot deadlock.
 * Returns nothing when the reservation was not reserved.
 */
export const commitReserved = sqlStatement<{ orderId: string; now: Date }, { orderId: string }>(
  sql`with moved as (
    update ${reservations} set status = 'committed', updated_at = ${placeholder(reservations.updatedAt, 'now')}
    where order_id = ${orderId} and status = 'reserved'
    returning order_id),
  lines as (
    select l.sku, l.qty from ${reservationLines} l
    where l.order_id = ${orderId} and exists (select 1 from moved)),
  locked as materialized (
    select i.sku from ${items} i where i.sku in (select sku from lines) order by i.sku for update),
  sold as (
    update ${items} i set reserved = i.reserved - l.qty, sold = i.sold + l.qty
    from lines l join locked k on k.sku = l.sku
    where i.sku = l.sku
    returning i.sku)
  select order_id as "orderId" from moved`,
);

/**
 * A one-line reservation in one statement, the common order's path: the line's stock is taken,
 * then the reservation claimed and the line recorded. Nothing happens when the stock is short
 * or the sku unknown, and the whole statement fails on a unique violation when the order has a
 * reservation row already (a retry, a release that came first): the caller then takes the
 * transaction path, which tells those cases apart and records a rejection. Its locks come item
 * first, the transaction path's reservation first: they meet only when one order is reserved
 * twice at once, and Postgres ends such a deadlock by failing one call, which the saga retries.
 */
const reserveLine = sqlStatement<
  { orderId: string; sku: string; qty: number; now: Date },
  { sku: string }
>(
  sql`with taken as (
    update ${items} set available = available - ${qty}, reserved = reserved + ${qty}
    where sku = ${sku} and available >= ${qty}
    returning sku),
  claimed as (
    insert into ${reservations} (order_id, status, created_at, updated_at)
    select ${orderId}, 'reserved', ${placeholder(reservations.createdAt, 'now')}, ${placeholder(reservations.updatedAt, 'now')}
    from taken
    returning order_id)
  insert into ${reservationLines} (order_id, sku, qty)
  select order_id, ${sku}, ${qty} from claimed
  returning sku`,
);

/** True when `reserveLine` reserved the line; false when the transaction path must decide. */
export async function reservedAlone(
  on: Queryable,
  orderId: string,
  line: { sku: string; qty: number },
  now: Date,
): Promise<boolean> {
  try {
    return (await reserveLine(on, { orderId, ...line, now })).length > 0;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}

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
  for (const line of [...lines].sort(bySku)) {
    const [taken] = await takeLine(tx, { orderId, ...line });
    if (!taken) {
      const [exists] = await tx
        .select({ sku: items.sku })
        .from(items)
        .where(eq(items.sku, line.sku));
      throw rejection(exists ? 'out_of_stock' : 'unknown_item', line.sku);
    }
  }
}

/** Puts a reservation's lines back to available (a release; a commit is `commitReserved`). */
export async function unreserveLines(tx: Tx, orderId: string) {
  const lines = await linesOf(tx, { orderId });
  for (const line of [...lines].sort(bySku)) {
    await unreserve(tx, line);
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
