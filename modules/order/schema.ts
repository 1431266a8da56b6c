import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, pgSchema, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { stampedAt } from '../../src/db/columns.ts';
import { outboxTable } from '../../src/events/tables.ts';
import { sagaTable } from '../../src/saga/table.ts';

export const orderSchema = pgSchema('order');

export interface OrderLine {
  sku: string;
  qty: number;
  unitPriceCents: number;
}

export const orders = orderSchema.table(
  'orders',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id').notNull(),
    status: text('status').$type<'PENDING' | 'CONFIRMED' | 'REJECTED'>().notNull(),
    reason: text('reason'),
    /** Lines with the prices quoted when the order was placed; never changed after. */
    items: jsonb('items').$type<OrderLine[]>().notNull(),
    totalCents: bigint('total_cents', { mode: 'number' }).notNull(),
    idempotencyKey: text('idempotency_key'),
    requestHash: text('request_hash'),
    createdAt: stampedAt('created_at'),
    updatedAt: stampedAt('updated_at'),
  },
  (t) => [
    index('orders_user_idx').on(t.userId, t.id),
    index('orders_pending_idx').on(t.userId).where(sql`${t.status} = 'PENDING'`),
    uniqueIndex('orders_idempotency_idx')
      .on(t.userId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
  ],
);

export const sagas = sagaTable(orderSchema);
export const outbox = outboxTable(orderSchema);
