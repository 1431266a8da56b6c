import { sql } from 'drizzle-orm';
import { bigint, check, index, pgSchema, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { stampedAt } from '../../src/db/columns.ts';
import { inboxTable } from '../../src/events/tables.ts';

export const paymentSchema = pgSchema('payment');

const money = (name: string) => bigint(name, { mode: 'number' });

/** Balance per user; always the sum of the user's ledger entries, never negative. */
export const accounts = paymentSchema.table(
  'accounts',
  {
    userId: uuid('user_id').primaryKey(),
    balanceCents: money('balance_cents').notNull().default(0),
    createdAt: stampedAt('created_at'),
  },
  (t) => [check('accounts_balance_non_negative', sql`${t.balanceCents} >= 0`)],
);

export type EntryKind = 'deposit' | 'charge' | 'refund';

export const ledger = paymentSchema.table(
  'ledger',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id').notNull(),
    kind: text('kind').$type<EntryKind>().notNull(),
    amountCents: money('amount_cents').notNull(),
    balanceAfterCents: money('balance_after_cents').notNull(),
    orderId: uuid('order_id'),
    idempotencyKey: text('idempotency_key'),
    createdAt: stampedAt('created_at'),
  },
  (t) => [
    index('ledger_user_idx').on(t.userId, t.id),
    uniqueIndex('ledger_idempotency_idx')
      .on(t.userId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    // At most one charge and one refund per order, whatever retries happen.
    uniqueIndex('ledger_order_kind_idx').on(t.orderId, t.kind).where(sql`${t.orderId} is not null`),
  ],
);

export type PaymentStatus = 'pending' | 'charged' | 'refunded' | 'cancelled' | 'rejected';

/** One row per order that was ever charged or refunded: the key of both steps. */
export const orderPayments = paymentSchema.table('order_payments', {
  orderId: uuid('order_id').primaryKey(),
  userId: uuid('user_id'),
  amountCents: money('amount_cents').notNull().default(0),
  status: text('status').$type<PaymentStatus>().notNull(),
  createdAt: stampedAt('created_at'),
  updatedAt: stampedAt('updated_at'),
});

export const inbox = inboxTable(paymentSchema);
