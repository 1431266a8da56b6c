import { transaction } from '../lib/db.js';
import { unprocessable } from '../lib/errors.js';
import { uuidv7 } from '../lib/uuid.js';

/** payment.charge: one transaction that debits the account (never overdrawing) and records it. */
export default {
  name: 'payment',
  actions: {
    charge: {
      visibility: 'public',
      async handler(ctx) {
        const { orderId, userId, amountCents } = ctx.params;
        const charged = await transaction(async (tx) => {
          const now = new Date();
          // A free order moves no money, so it writes no ledger entry (as in bunshop).
          if (amountCents > 0) {
            const [account] = await tx`
              update payment.accounts set balance_cents = balance_cents - ${amountCents}
              where user_id = ${userId} and balance_cents >= ${amountCents}
              returning balance_cents`;
            if (!account) {
              await tx`
                insert into payment.order_payments
                  (order_id, user_id, amount_cents, status, created_at, updated_at)
                values (${orderId}, ${userId}, ${amountCents}, 'rejected', ${now}, ${now})`;
              return false;
            }
            await tx`
              insert into payment.ledger
                (id, user_id, kind, amount_cents, balance_after_cents, order_id, created_at)
              values (${uuidv7(now.getTime())}, ${userId}, 'charge', ${-amountCents},
                      ${account.balance_cents}, ${orderId}, ${now})`;
          }
          await tx`
            insert into payment.order_payments
              (order_id, user_id, amount_cents, status, created_at, updated_at)
            values (${orderId}, ${userId}, ${amountCents}, 'charged', ${now}, ${now})`;
          return true;
        });
        if (!charged) {
          throw unprocessable('insufficient_funds', 'The balance does not cover this order.');
        }
        return { status: 'charged' };
      },
    },
  },
};
