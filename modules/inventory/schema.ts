import { sql } from 'drizzle-orm';
import { bigint, check, integer, pgSchema, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { stampedAt } from '../../src/db/columns.ts';

export const inventorySchema = pgSchema('inventory');

const count = (name: string) => bigint(name, { mode: 'number' }).notNull().default(0);

/** Stock per sku: stocked = available + reserved + sold, each never negative. */
export const items = inventorySchema.table(
  'items',
  {
    // The migration adds COLLATE "C" (drizzle cannot say it): lists are ordered by sku bytes on any locale.
    sku: text('sku').primaryKey(),
    name: text('name').notNull(),
    priceCents: bigint('price_cents', { mode: 'number' }).notNull(),
    available: count('available'),
    reserved: count('reserved'),
    sold: count('sold'),
    updatedAt: stampedAt('updated_at'),
  },
  (t) => [
    check(
      'items_counts_non_negative',
      sql`${t.available} >= 0 and ${t.reserved} >= 0 and ${t.sold} >= 0`,
    ),
    check('items_price_non_negative', sql`${t.priceCents} >= 0`),
  ],
);

export type ReservationStatus = 'pending' | 'reserved' | 'committed' | 'released' | 'rejected';

/** One row per order that ever asked for stock; its status makes every step idempotent. */
export const reservations = inventorySchema.table('reservations', {
  orderId: uuid('order_id').primaryKey(),
  status: text('status').$type<ReservationStatus>().notNull(),
  reason: text('reason'),
  createdAt: stampedAt('created_at'),
  updatedAt: stampedAt('updated_at'),
});

export const reservationLines = inventorySchema.table(
  'reservation_lines',
  {
    orderId: uuid('order_id').notNull(),
    sku: text('sku').notNull(),
    qty: integer('qty').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.sku] })],
);
