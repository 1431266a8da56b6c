import { sql } from 'drizzle-orm';
import type { ClientOf } from '../../src/contract.ts';
import { placeholder, sqlStatement, typed } from '../../src/db/statement.ts';
import type { Db } from '../../src/db/types.ts';
import { isAppError } from '../../src/errors.ts';
import { Outbox, type OutboxRowValues } from '../../src/events/outbox.ts';
import { doneCte } from '../../src/saga/statements.ts';
import type { DoneValues, SagaDefinition } from '../../src/saga/types.ts';
import type { inventoryContract } from '../inventory/contract.ts';
import type { paymentContract } from '../payment/contract.ts';
import { orderContract, type RejectReason } from './contract.ts';
import { orders, outbox, sagas } from './schema.ts';

type OrderRow = typeof orders.$inferSelect;

/** What the saga carries between steps; persisted with every transition. */
export interface PlaceOrderState {
  orderId: string;
  userId: string;
  lines: { sku: string; qty: number }[];
  totalCents: number;
}

const businessReasons: ReadonlySet<string> = new Set([
  'unknown_item',
  'out_of_stock',
  'insufficient_funds',
]);

/**
 * The saga done, the order settled and its event written: one statement, so one round trip and
 * no transaction to open. The order and the event are written only when the saga was this
 * node's to finish (`done` returned it).
 */
const settle = sqlStatement<
  DoneValues & OutboxRowValues & { status: OrderRow['status']; reason: string | null; now: Date },
  OrderRow
>(
  sql`with done as (${doneCte(sagas)}),
  settled as (
    update ${orders} set status = ${typed('status', 'text')}, reason = ${typed('reason', 'text')},
      updated_at = ${placeholder(orders.updatedAt, 'now')}::timestamptz
    where id = ${typed('sagaId', 'uuid')} and exists (select 1 from done)
    returning *),
  event as (
    insert into ${outbox} (id, event, payload, headers)
    select ${typed('eventId', 'uuid')}, ${typed('event', 'text')}, ${typed('payload', 'jsonb')},
      ${typed('headers', 'jsonb')}
    from settled)
  select id, user_id as "userId", status, reason, items, total_cents as "totalCents",
    idempotency_key as "idempotencyKey", request_hash as "requestHash",
    created_at as "createdAt", updated_at as "updatedAt"
  from settled`,
  {
    items: orders.items,
    totalCents: orders.totalCents,
    createdAt: orders.createdAt,
    updatedAt: orders.updatedAt,
  },
);

/**
 * Reserve stock, charge the buyer, mark the stock sold. Every step and compensation is
 * keyed by the order id, so a retry after a lost reply has no second effect.
 */
export function placeOrderSaga(deps: {
  inventory: ClientOf<typeof inventoryContract>;
  payment: ClientOf<typeof paymentContract>;
  now: () => Date;
  /** Wakes the outbox relay once an order's event is committed. */
  eventsWritten: () => void;
}): SagaDefinition<PlaceOrderState, OrderRow> {
  const { inventory, payment } = deps;
  const events = new Outbox(outbox);
  const finish = async (
    db: Db,
    done: DoneValues,
    status: OrderRow['status'],
    reason: string | null,
    event: OutboxRowValues,
  ) => {
    const [row] = await settle(db, { ...done, ...event, status, reason, now: deps.now() });
    if (!row) return undefined;
    deps.eventsWritten();
    return { outcome: row };
  };
  return {
    name: 'place-order',
    module: 'order',
    timeoutReason: 'unavailable',
    steps: [
      {
        name: 'reserve',
        run: async (s, ctx) =>
          void (await inventory.reserve({ orderId: s.orderId, lines: s.lines }, ctx)),
        compensate: async (s, ctx) => void (await inventory.release({ orderId: s.orderId }, ctx)),
      },
      {
        name: 'charge',
        run: async (s, ctx) =>
          void (await payment.charge(
            { orderId: s.orderId, userId: s.userId, amountCents: s.totalCents },
            ctx,
          )),
        compensate: async (s, ctx) => void (await payment.refund({ orderId: s.orderId }, ctx)),
        // Paid for and reserved: from here the order can only be confirmed.
        pivot: true,
      },
      {
        name: 'commit',
        run: async (s, ctx) => void (await inventory.commit({ orderId: s.orderId }, ctx)),
      },
    ],
    classify(err) {
      if (!isAppError(err) || err.transient || err.code === 'internal') return { kind: 'retry' };
      const reason = err.details.reason;
      return {
        kind: 'fail',
        reason: reason && businessReasons.has(reason) ? reason : 'unavailable',
      };
    },
    complete: (db, done, s) =>
      finish(
        db,
        done,
        'CONFIRMED',
        null,
        events.row(orderContract.events.confirmed, {
          orderId: s.orderId,
          userId: s.userId,
          totalCents: s.totalCents,
        }),
      ),
    fail: (db, done, s, reason) =>
      finish(
        db,
        done,
        'REJECTED',
        reason,
        events.row(orderContract.events.rejected, {
          orderId: s.orderId,
          userId: s.userId,
          totalCents: s.totalCents,
          reason: reason as RejectReason,
        }),
      ),
  };
}
