import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { asModule, type CallContext, isAdmin, requireUser } from '../../src/context.ts';
import type { ServiceOf } from '../../src/contract.ts';
import { isUniqueViolation } from '../../src/db/errors.ts';
import { statement } from '../../src/db/statement.ts';
import { AppError } from '../../src/errors.ts';
import { Outbox } from '../../src/events/outbox.ts';
import type { ModuleRuntime } from '../../src/module.ts';
import type { SagaEngine } from '../../src/saga/engine.ts';
import { inventoryContract } from '../inventory/contract.ts';
import { type Order, orderContract } from './contract.ts';
import { placeAndBegin, placeRejected } from './placement.ts';
import type { PlaceOrderState } from './saga.ts';
import { orders, outbox } from './schema.ts';

type Row = typeof orders.$inferSelect;

export const orderView = (row: Row): Order => ({
  id: row.id,
  userId: row.userId,
  status: row.status,
  ...(row.reason ? { reason: row.reason as Order['reason'] } : {}),
  items: row.items,
  totalCents: row.totalCents,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

/** Canonical form of an order request, to tell a replay from a different body. */
const hashOf = (lines: { sku: string; qty: number }[]) =>
  new Bun.CryptoHasher('sha256')
    .update(
      JSON.stringify(
        [...lines].sort((a, b) => (a.sku < b.sku ? -1 : 1)).map((l) => [l.sku, l.qty]),
      ),
    )
    .digest('hex');

// Answer a little before the caller's deadline, so a slow saga yields 202 rather than a timeout.
const answerMarginMs = 250;

export function createOrderService(
  rt: ModuleRuntime,
  saga: SagaEngine<PlaceOrderState, Row>,
): ServiceOf<typeof orderContract> {
  const inventory = rt.client(inventoryContract);
  const events = new Outbox(outbox);
  const now = () => new Date(rt.clock.now());

  const byId = statement<{ id: string }, Row[]>((on) =>
    on
      .select()
      .from(orders)
      .where(eq(orders.id, sql.placeholder('id')))
      .limit(1),
  );
  const load = async (id: string) => (await byId(rt.db, { id }))[0];
  /** The first request's order for this key, or an error saying why it cannot be replayed. */
  const replay = async (userId: string, key: string, hash: string) => {
    const [first] = await rt.db
      .select()
      .from(orders)
      .where(and(eq(orders.userId, userId), eq(orders.idempotencyKey, key)))
      .limit(1);
    if (!first) return undefined;
    if (first.requestHash !== hash) {
      throw new AppError(
        'unprocessable',
        'This Idempotency-Key was used with a different request body.',
      );
    }
    const waiting =
      first.status === 'PENDING' &&
      rt.clock.now() - first.createdAt.getTime() < rt.settings.requestTimeoutMs;
    if (waiting)
      throw new AppError(
        'conflict',
        'A request with this Idempotency-Key is still being processed.',
      );
    return orderView(first);
  };

  const capped = () =>
    new AppError('rate_limited', 'Too many orders are still pending; wait for them to finish.', {
      retryAfter: 5,
    });

  /** Writes the order: PENDING with its saga begun (the row for `drive`), or rejected at once. */
  const create = async (
    row: typeof orders.$inferInsert & { id: string },
    state: PlaceOrderState | undefined,
  ) => {
    const max = rt.settings.maxPendingOrders;
    if (state) {
      const begun = saga.beginValues(row.id, state, rt.settings.sagaTimeoutMs);
      const [sagaRow] = await placeAndBegin(rt.db, { ...row, max, ...begun });
      if (!sagaRow) throw capped();
      return sagaRow;
    }
    await rt.transaction(async (tx) => {
      const [inserted] = await placeRejected(tx, { ...row, max });
      if (!inserted) throw capped();
      await events.publish(tx, orderContract.events.rejected, {
        orderId: row.id,
        userId: row.userId,
        totalCents: row.totalCents,
        reason: 'unknown_item',
      });
    });
    return undefined;
  };

  return {
    async placeOrder({ items, idempotencyKey }, ctx) {
      const { userId } = requireUser(ctx);
      const hash = hashOf(items);
      if (idempotencyKey) {
        const first = await replay(userId, idempotencyKey, hash);
        if (first) return first;
      }
      const quote = await inventory.quote(
        { skus: items.map((l) => l.sku) },
        asModule(ctx, 'order'),
      );
      const prices = new Map(quote.prices.map((p) => [p.sku, p.priceCents]));
      const lines = items.map((l) => ({
        sku: l.sku,
        qty: l.qty,
        unitPriceCents: prices.get(l.sku) ?? 0,
      }));
      const totalCents = lines.reduce((sum, l) => sum + l.qty * l.unitPriceCents, 0);
      // Past 2^53 cents the total is no exact number and no charge can carry it.
      if (!Number.isSafeInteger(totalCents)) {
        throw new AppError(
          'unprocessable',
          'The order total is over the largest amount an account can hold; order fewer items.',
        );
      }
      const id = Bun.randomUUIDv7();
      const rejected = quote.unknown.length > 0;
      const at = now();
      const row = {
        id,
        userId,
        items: lines,
        totalCents,
        createdAt: at,
        updatedAt: at,
        status: rejected ? ('REJECTED' as const) : ('PENDING' as const),
        reason: rejected ? 'unknown_item' : null,
        idempotencyKey: idempotencyKey ?? null,
        requestHash: idempotencyKey ? hash : null,
      };
      const state = rejected ? undefined : { orderId: id, userId, lines: items, totalCents };
      let begun: Awaited<ReturnType<typeof create>>;
      try {
        begun = await create(row, state);
      } catch (err) {
        if (idempotencyKey && isUniqueViolation(err)) {
          const first = await replay(userId, idempotencyKey, hash);
          if (first) return first;
        }
        throw err;
      }
      if (!begun) return orderView((await load(id))!);
      const wait = Math.max(0, ctx.deadline - rt.clock.now() - answerMarginMs);
      const ended = await Promise.race([
        saga.drive(id, begun),
        rt.clock.sleep(wait).then(() => undefined),
      ]);
      return orderView(ended ?? (await load(id))!);
    },

    async getOrder({ id }, ctx: CallContext) {
      const caller = requireUser(ctx);
      const row = await load(id);
      if (!row || (row.userId !== caller.userId && !isAdmin(ctx)))
        throw new AppError('not_found', 'No such order.');
      return orderView(row);
    },

    async listOrders({ limit, before }, ctx) {
      const { userId } = requireUser(ctx);
      const rows = await rt.db
        .select()
        .from(orders)
        .where(and(eq(orders.userId, userId), before ? lt(orders.id, before) : undefined))
        .orderBy(desc(orders.id))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      return { items: page.map(orderView), next: rows.length > limit ? page.at(-1)!.id : null };
    },
  };
}
