import { type SQL, sql } from 'drizzle-orm';
import { placeholder, sqlStatement, typed } from '../../src/db/statement.ts';
import { beginCte, sagaRowColumns, sagaRowDecoders } from '../../src/saga/statements.ts';
import type { SagaRow } from '../../src/saga/table.ts';
import type { BeginValues } from '../../src/saga/types.ts';
import { orders, sagas } from './schema.ts';

type NewOrder = typeof orders.$inferInsert & { max: number };

/**
 * The order's insert, under the cap on PENDING orders. `pending_orders_locked` (migration 0002)
 * takes the user's advisory lock and counts with a snapshot of its own, taken once the lock is
 * held, so concurrent orders of one user take turns and each counts the ones committed before it.
 */
const insertUnderCap = (returning: SQL) => sql`insert into ${orders} (id, user_id, status, reason,
    items, total_cents, idempotency_key, request_hash, created_at, updated_at)
  select ${typed('id', 'uuid')}, ${typed('userId', 'uuid')}, ${typed('status', 'text')},
    ${typed('reason', 'text')}, ${placeholder(orders.items, 'items')}::jsonb,
    ${typed('totalCents', 'bigint')}, ${typed('idempotencyKey', 'text')},
    ${typed('requestHash', 'text')}, ${placeholder(orders.createdAt, 'createdAt')}::timestamptz,
    ${placeholder(orders.updatedAt, 'updatedAt')}::timestamptz
  where "order".pending_orders_locked(${typed('userId', 'uuid')}) < ${typed('max', 'integer')}
  returning ${returning}`;

/** An order rejected at once (it starts no saga), in the caller's transaction; no row when capped. */
export const placeRejected = sqlStatement<NewOrder, { id: string }>(insertUnderCap(sql`id`));

/**
 * A PENDING order and its saga, begun and leased to this node, in one statement and so one round
 * trip with no transaction to open; returns the saga's row for `drive`, or none when capped.
 */
export const placeAndBegin = sqlStatement<NewOrder & BeginValues, SagaRow>(
  sql`with placed as (${insertUnderCap(sql`id`)}),
  begun as (${beginCte(sagas, sql`placed`)})
  select ${sagaRowColumns} from begun`,
  sagaRowDecoders(sagas),
);
