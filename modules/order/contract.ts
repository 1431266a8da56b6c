import { toJsonSchema } from '@valibot/to-json-schema';
import * as v from 'valibot';
import { action, defineContract, event } from '../../src/contract.ts';
import { integer, isoTime, uuid, whole } from '../../src/validation.ts';
import { stockLine } from '../inventory/contract.ts';

// OpenAPI documents only the first schema of a pipe, so the line schema is lent to it here.
const { $schema: _, ...lineJsonSchema } = toJsonSchema(stockLine, { target: 'draft-2020-12' });

export const orderStatus = v.picklist(['PENDING', 'CONFIRMED', 'REJECTED']);
/** Why an order was rejected; `unavailable` when a module stayed down past the saga deadline. */
export const rejectReason = v.picklist([
  'unknown_item',
  'out_of_stock',
  'insufficient_funds',
  'unavailable',
]);
export type RejectReason = v.InferOutput<typeof rejectReason>;

export const order = v.object({
  id: uuid,
  userId: uuid,
  status: orderStatus,
  reason: v.optional(rejectReason),
  items: v.array(v.object({ sku: v.string(), qty: whole, unitPriceCents: whole })),
  totalCents: whole,
  createdAt: isoTime,
  updatedAt: isoTime,
});
export type Order = v.InferOutput<typeof order>;

/** The body of `POST /orders`: 1..20 lines, no sku twice. */
export const orderBody = v.object({
  items: v.pipe(
    // The count is checked before the lines, so 10,000 bad lines cost one error, not 20,000.
    v.array(v.unknown(), 'must be an array of { sku, qty }'),
    v.minLength(1, 'must have at least 1 line'),
    v.maxLength(20, 'must have at most 20 lines'),
    v.metadata({ items: lineJsonSchema }),
    v.array(stockLine),
    v.check(
      (lines) => new Set(lines.map((l) => l.sku)).size === lines.length,
      'must not name a sku twice',
    ),
  ),
});

const outcome = v.object({ orderId: uuid, userId: uuid, totalCents: whole });

export const orderContract = defineContract(
  'order',
  {
    /**
     * Places an order and waits for its saga until the caller's deadline; the order comes
     * back PENDING when it has not finished by then. A total past 2^53 - 1 cents is
     * `unprocessable`. With an idempotency key, a repeat answers the first order; another
     * body is `unprocessable`; a repeat while the first request is still waiting is `conflict`.
     */
    placeOrder: action({
      input: v.object({ ...orderBody.entries, idempotencyKey: v.optional(v.string()) }),
      output: order,
      idempotent: false,
      summary: 'Place an order.',
    }),
    /** An order visible to the caller (its owner, or an admin); otherwise `not_found`. */
    getOrder: action({
      input: v.object({ id: uuid }),
      output: order,
      idempotent: true,
      summary: 'Read an order.',
    }),
    /** The caller's orders, newest first, before the given order id. */
    listOrders: action({
      input: v.object({ limit: integer(1, 100), before: v.optional(uuid) }),
      output: v.object({ items: v.array(order), next: v.nullable(v.string()) }),
      idempotent: true,
      summary: "The caller's orders.",
    }),
  },
  {
    /** An order was charged and its stock sold. */
    confirmed: event(outcome, 'An order was confirmed.'),
    /** An order ended without a sale; nothing is charged or held for it. */
    rejected: event(
      v.object({ ...outcome.entries, reason: rejectReason }),
      'An order was rejected.',
    ),
  },
);
