import * as v from 'valibot';
import { action, defineContract } from '../../src/contract.ts';
import { integer, plainText, uuid, whole } from '../../src/validation.ts';

// "." and ".." match the character class but cannot be addressed: URLs are dot-normalised.
export const skuPattern = /^(?!\.\.?$)[A-Za-z0-9._-]{1,64}$/;
export const sku = v.pipe(
  v.string('must be a string'),
  v.regex(skuPattern, 'must match ^[A-Za-z0-9._-]{1,64}$'),
);

export const item = v.object({
  sku: v.string(),
  name: v.string(),
  priceCents: whole,
  available: whole,
});

/** The body of `PUT /inventory/items/{sku}`. */
export const itemFields = v.object({
  name: plainText(1, 200),
  priceCents: integer(0, Number.MAX_SAFE_INTEGER),
  available: integer(0, Number.MAX_SAFE_INTEGER),
});

export const stockLine = v.object({ sku, qty: integer(1, 100) });

const orderRef = v.object({ orderId: uuid });
const stepResult = v.object({
  status: v.picklist(['reserved', 'committed', 'released', 'rejected']),
});

export const inventoryContract = defineContract('inventory', {
  /** One item; `not_found` when absent. */
  getItem: action({
    input: v.object({ sku }),
    output: item,
    idempotent: true,
    summary: 'Read an item.',
  }),
  /** Items ordered by sku, after the given sku. */
  listItems: action({
    input: v.object({ limit: integer(1, 100), after: v.optional(v.string()) }),
    output: v.object({ items: v.array(item), next: v.nullable(v.string()) }),
    idempotent: true,
    summary: 'List items.',
  }),
  /** Creates or replaces an item (admin). */
  putItem: action({
    input: v.object({ sku, ...itemFields.entries }),
    output: v.object({ item, created: v.boolean() }),
    idempotent: true,
    summary: 'Create or replace an item.',
  }),
  /** Current prices of the given skus, and which of them do not exist. */
  quote: action({
    input: v.object({ skus: v.pipe(v.array(sku), v.maxLength(100)) }),
    output: v.object({
      prices: v.array(v.object({ sku: v.string(), priceCents: whole })),
      unknown: v.array(v.string()),
    }),
    idempotent: true,
    summary: 'Price skus.',
  }),
  /**
   * Moves stock from available to reserved for an order, all lines or none. Keyed by the
   * order id: a retry returns the first outcome. `unprocessable` with reason
   * `out_of_stock` or `unknown_item`; `conflict` once the order's stock was released.
   */
  reserve: action({
    input: v.object({
      orderId: uuid,
      lines: v.pipe(v.array(stockLine), v.minLength(1), v.maxLength(20)),
    }),
    output: stepResult,
    idempotent: true,
    summary: 'Reserve stock for an order.',
  }),
  /** Returns an order's reserved stock; safe before, after or instead of `reserve`. */
  release: action({
    input: orderRef,
    output: stepResult,
    idempotent: true,
    summary: 'Release reserved stock.',
  }),
  /** Turns an order's reserved stock into sold stock. */
  commit: action({
    input: orderRef,
    output: stepResult,
    idempotent: true,
    summary: 'Mark reserved stock sold.',
  }),
});
