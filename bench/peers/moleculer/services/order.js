import { Errors } from 'moleculer';
import { db } from '../lib/db.js';
import { appError, businessReason, unauthorized } from '../lib/errors.js';
import { uuidv7 } from '../lib/uuid.js';
import { skuPattern } from './inventory.js';

const view = (row) => ({
  id: row.id,
  userId: row.user_id,
  status: row.status,
  ...(row.reason ? { reason: row.reason } : {}),
  // Key order as bunshop answers (jsonb stores keys sorted).
  items: row.items.map((l) => ({ sku: l.sku, qty: l.qty, unitPriceCents: l.unitPriceCents })),
  totalCents: row.total_cents,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

/**
 * order.place: the orchestrator of the order saga. Each step is a call to another service,
 * and each step is one transaction there:
 *   insert the order PENDING -> inventory.reserve -> payment.charge -> inventory.commit
 *   -> mark CONFIRMED.
 * A refused reserve rejects the order; a refused charge releases the stock (compensation)
 * and rejects it. No saga log, no retries, no outbox, no idempotency keys (see README.md).
 */
export default ({ waitForServices = false } = {}) => ({
  name: 'order',
  // Over NATS, start (and so be announced) only once the steps' services are reachable.
  dependencies: waitForServices ? ['inventory', 'payment'] : [],
  actions: {
    place: {
      params: {
        items: {
          type: 'array',
          min: 1,
          max: 20,
          items: {
            type: 'object',
            props: {
              sku: { type: 'string', pattern: skuPattern },
              qty: { type: 'number', integer: true, min: 1, max: 100 },
            },
          },
        },
      },
      async handler(ctx) {
        const userId = ctx.meta.user?.id;
        if (!userId) throw unauthorized();
        const items = ctx.params.items.map((l) => ({ sku: l.sku, qty: l.qty }));
        if (new Set(items.map((l) => l.sku)).size !== items.length) {
          throw new Errors.ValidationError('must not name a sku twice', 'VALIDATION_ERROR', [
            { field: 'items', message: 'must not name a sku twice' },
          ]);
        }

        const quote = await ctx.call('inventory.quote', { skus: items.map((l) => l.sku) });
        const prices = new Map(quote.prices.map((p) => [p.sku, p.priceCents]));
        const lines = items.map((l) => ({
          sku: l.sku,
          qty: l.qty,
          unitPriceCents: prices.get(l.sku) ?? 0,
        }));
        const totalCents = lines.reduce((sum, l) => sum + l.qty * l.unitPriceCents, 0);
        if (!Number.isSafeInteger(totalCents)) {
          throw appError(
            'unprocessable',
            422,
            'The order total is over the largest amount an account can hold; order fewer items.',
          );
        }

        const sql = db();
        const id = uuidv7();
        const at = new Date();
        const unknown = quote.unknown.length > 0;
        const [created] = await sql`
          insert into "order".orders
            (id, user_id, status, reason, items, total_cents, created_at, updated_at)
          values (${id}, ${userId}, ${unknown ? 'REJECTED' : 'PENDING'},
                  ${unknown ? 'unknown_item' : null}, ${sql.json(lines)},
                  ${totalCents}, ${at}, ${at})
          returning *`;
        if (unknown) return answer(ctx, created);

        let reason;
        let failure;
        try {
          await ctx.call('inventory.reserve', { orderId: id, lines: items });
        } catch (err) {
          reason = businessReason(err);
          if (!reason) {
            failure = err;
            // The outcome is unknown (e.g. a lost reply): give back whatever may be held.
            await ctx.call('inventory.release', { orderId: id }).catch(() => {});
          }
        }
        if (!reason && !failure) {
          try {
            await ctx.call('payment.charge', { orderId: id, userId, amountCents: totalCents });
          } catch (err) {
            reason = businessReason(err);
            if (!reason) failure = err;
            // Compensation: the stock goes back to available.
            await ctx.call('inventory.release', { orderId: id });
          }
        }
        if (failure) {
          // Not a business refusal: the order ends REJECTED 'unavailable' and the client gets 503.
          await finish(sql, id, 'REJECTED', 'unavailable');
          throw appError('unavailable', 503, 'The order could not be completed; try again.', {
            reason: 'unavailable',
          });
        }
        // Charged: from here the order can only be confirmed (a failure leaves it PENDING).
        if (!reason) await ctx.call('inventory.commit', { orderId: id });
        const row = await finish(sql, id, reason ? 'REJECTED' : 'CONFIRMED', reason ?? null);
        return answer(ctx, row);
      },
    },
  },
});

async function finish(sql, id, status, reason) {
  const [row] = await sql`
    update "order".orders set status = ${status}, reason = ${reason}, updated_at = ${new Date()}
    where id = ${id}
    returning *`;
  return row;
}

function answer(ctx, row) {
  ctx.meta.$statusCode = 201;
  // moleculer-web sends it as the Location header.
  ctx.meta.$location = `/orders/${row.id}`;
  return view(row);
}
