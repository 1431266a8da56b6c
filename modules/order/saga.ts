import { eq, sql } from 'drizzle-orm';
import type { ClientOf } from '../../src/contract.ts';
import { placeholder, statement } from '../../src/db/statement.ts';
import { isAppError } from '../../src/errors.ts';
import { Outbox } from '../../src/events/outbox.ts';
import type { SagaDefinition } from '../../src/saga/types.ts';
import type { inventoryContract } from '../inventory/contract.ts';
import type { paymentContract } from '../payment/contract.ts';
import { orderContract, type RejectReason } from './contract.ts';
import { orders, outbox } from './schema.ts';

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
 * Reserve stock, charge the buyer, mark the stock sold. Every step and compensation is
 * keyed by the order id, so a retry after a lost reply has no second effect.
 */
export function placeOrderSaga(deps: {
  inventory: ClientOf<typeof inventoryContract>;
  payment: ClientOf<typeof paymentContract>;
  now: () => Date;
}): SagaDefinition<PlaceOrderState, OrderRow> {
  const { inventory, payment } = deps;
  const events = new Outbox(outbox);
  const settle = statement<
    { id: string; status: OrderRow['status']; reason: string | null; now: Date },
    OrderRow[]
  >((on) =>
    on
      .update(orders)
      .set({
        status: placeholder(orders.status, 'status'),
        reason: placeholder(orders.reason, 'reason'),
        updatedAt: placeholder(orders.updatedAt, 'now'),
      })
      .where(eq(orders.id, sql.placeholder('id')))
      .returning(),
  );
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
    async complete(tx, id, s) {
      const [row] = await settle(tx, { id, status: 'CONFIRMED', reason: null, now: deps.now() });
      await events.publish(tx, orderContract.events.confirmed, {
        orderId: id,
        userId: s.userId,
        totalCents: s.totalCents,
      });
      return row!;
    },
    async fail(tx, id, s, reason) {
      const [row] = await settle(tx, { id, status: 'REJECTED', reason, now: deps.now() });
      await events.publish(tx, orderContract.events.rejected, {
        orderId: id,
        userId: s.userId,
        totalCents: s.totalCents,
        reason: reason as RejectReason,
      });
      return row!;
    },
  };
}
