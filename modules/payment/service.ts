import { and, desc, eq, lt } from 'drizzle-orm';
import { requireSystem, requireUser } from '../../src/context.ts';
import type { ServiceOf } from '../../src/contract.ts';
import { isUniqueViolation } from '../../src/db/errors.ts';
import { AppError } from '../../src/errors.ts';
import type { ModuleRuntime } from '../../src/module.ts';
import type { paymentContract } from './contract.ts';
import { chargeOnce, post } from './ledger.ts';
import { accounts, ledger, orderPayments, type PaymentStatus } from './schema.ts';

const insufficient = () =>
  new AppError('unprocessable', 'The balance does not cover this order.', {
    reason: 'insufficient_funds',
  });

export function createPaymentService(rt: ModuleRuntime): ServiceOf<typeof paymentContract> {
  const now = () => new Date(rt.clock.now());

  const replayDeposit = async (userId: string, key: string, amountCents: number) => {
    const [first] = await rt.db
      .select()
      .from(ledger)
      .where(and(eq(ledger.userId, userId), eq(ledger.idempotencyKey, key)))
      .limit(1);
    if (!first) return undefined;
    if (first.amountCents !== amountCents) {
      throw new AppError(
        'unprocessable',
        'This Idempotency-Key was used with a different request body.',
      );
    }
    return { userId, balanceCents: first.balanceAfterCents };
  };

  return {
    async getAccount(_input, ctx) {
      const { userId } = requireUser(ctx);
      const [row] = await rt.db.select().from(accounts).where(eq(accounts.userId, userId)).limit(1);
      return { userId, balanceCents: row?.balanceCents ?? 0 };
    },

    async deposit({ amountCents, idempotencyKey }, ctx) {
      const { userId } = requireUser(ctx);
      if (idempotencyKey) {
        const replay = await replayDeposit(userId, idempotencyKey, amountCents);
        if (replay) return replay;
      }
      try {
        const balanceCents = await rt.db.transaction((tx) =>
          post(tx, { userId, kind: 'deposit', amountCents, idempotencyKey }, now),
        );
        return { userId, balanceCents: balanceCents! };
      } catch (err) {
        // A concurrent request with the same key committed first: answer with its result.
        if (idempotencyKey && isUniqueViolation(err)) {
          const replay = await replayDeposit(userId, idempotencyKey, amountCents);
          if (replay) return replay;
        }
        throw err;
      }
    },

    async listTransactions({ limit, before }, ctx) {
      const { userId } = requireUser(ctx);
      const rows = await rt.db
        .select()
        .from(ledger)
        .where(and(eq(ledger.userId, userId), before ? lt(ledger.id, before) : undefined))
        .orderBy(desc(ledger.id))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      return {
        items: page.map((r) => ({
          id: r.id,
          kind: r.kind,
          amountCents: r.amountCents,
          ...(r.orderId ? { orderId: r.orderId } : {}),
          createdAt: r.createdAt.toISOString(),
        })),
        next: rows.length > limit ? page.at(-1)!.id : null,
      };
    },

    async charge({ orderId, userId, amountCents }, ctx) {
      requireSystem(ctx);
      let status: PaymentStatus;
      try {
        const [claimed] = await chargeOnce(rt.db, { orderId, userId, amountCents, now: now() });
        status = claimed!.status;
      } catch (err) {
        // Claimed before, by a retry of this charge or by a refund: answer with what it was.
        if (!isUniqueViolation(err)) throw err;
        const [existing] = await rt.db
          .select({ status: orderPayments.status })
          .from(orderPayments)
          .where(eq(orderPayments.orderId, orderId));
        status = existing!.status;
      }
      if (status === 'charged') return { status };
      if (status === 'rejected') throw insufficient();
      throw new AppError('conflict', 'This order was already refunded or cancelled.');
    },

    async refund({ orderId }, ctx) {
      requireSystem(ctx);
      return rt.db.transaction(async (tx) => {
        // A refund that arrives first leaves a tombstone, so a late charge cannot take money.
        const [tombstone] = await tx
          .insert(orderPayments)
          .values({ orderId, status: 'cancelled', createdAt: now(), updatedAt: now() })
          .onConflictDoNothing()
          .returning();
        if (tombstone) return { status: 'cancelled' as const };
        const [existing] = await tx
          .select()
          .from(orderPayments)
          .where(eq(orderPayments.orderId, orderId))
          .for('update');
        const row = existing!;
        if (row.status === 'charged' && row.userId) {
          if (row.amountCents > 0) {
            await post(
              tx,
              { userId: row.userId, kind: 'refund', amountCents: row.amountCents, orderId },
              now,
            );
          }
          await tx
            .update(orderPayments)
            .set({ status: 'refunded', updatedAt: now() })
            .where(eq(orderPayments.orderId, orderId));
          return { status: 'refunded' as const };
        }
        return { status: row.status === 'pending' ? ('cancelled' as const) : row.status };
      });
    },
  };
}
