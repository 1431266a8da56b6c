import * as v from 'valibot';
import { action, defineContract } from '../../src/contract.ts';
import { integer, isoTime, uuid, whole } from '../../src/validation.ts';

export const account = v.object({ userId: uuid, balanceCents: whole });

export const ledgerEntry = v.object({
  id: uuid,
  kind: v.picklist(['deposit', 'charge', 'refund']),
  /** Signed: deposits and refunds positive, charges negative. */
  amountCents: whole,
  orderId: v.optional(uuid),
  createdAt: isoTime,
});

export const depositBody = v.object({ amountCents: integer(1, 100_000_000) });

const orderRef = v.object({ orderId: uuid });
const paymentStatus = v.object({
  status: v.picklist(['charged', 'refunded', 'cancelled', 'rejected']),
});

export const paymentContract = defineContract('payment', {
  /** The caller's account (balance 0 until the first deposit). */
  getAccount: action({
    input: v.object({}),
    output: account,
    idempotent: true,
    summary: "The caller's account.",
  }),
  /**
   * Adds money to the caller's account. With an idempotency key, a repeat returns the first
   * result; the same key with another amount is `unprocessable`.
   */
  deposit: action({
    input: v.object({ ...depositBody.entries, idempotencyKey: v.optional(v.string()) }),
    output: account,
    idempotent: false,
    summary: 'Deposit money.',
  }),
  /** The caller's ledger, newest first, before the given entry id. */
  listTransactions: action({
    input: v.object({ limit: integer(1, 100), before: v.optional(uuid) }),
    output: v.object({ items: v.array(ledgerEntry), next: v.nullable(v.string()) }),
    idempotent: true,
    summary: "The caller's ledger.",
  }),
  /**
   * Charges a buyer for an order, once per order id: a retry returns the first outcome.
   * `unprocessable` with reason `insufficient_funds`; `conflict` once the order was refunded.
   */
  charge: action({
    input: v.object({
      orderId: uuid,
      userId: uuid,
      amountCents: integer(0, Number.MAX_SAFE_INTEGER),
    }),
    output: paymentStatus,
    idempotent: true,
    summary: 'Charge an order.',
  }),
  /** Gives an order's charge back; safe before, after or instead of `charge`. */
  refund: action({
    input: orderRef,
    output: paymentStatus,
    idempotent: true,
    summary: 'Refund an order.',
  }),
});
