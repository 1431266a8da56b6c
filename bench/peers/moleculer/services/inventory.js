import { db, transaction } from '../lib/db.js';
import { appError, notFound, unprocessable } from '../lib/errors.js';

// "." and ".." match the character class but cannot be addressed (same pattern as bunshop).
export const skuPattern = /^(?!\.\.?$)[A-Za-z0-9._-]{1,64}$/;

const bySku = (a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0);

/** Stock: reads, and the saga steps reserve / release / commit, each one transaction. */
export default {
  name: 'inventory',
  actions: {
    get: {
      async handler(ctx) {
        const sku = String(ctx.params.sku ?? '');
        if (!skuPattern.test(sku)) throw notFound(`No item ${sku.slice(0, 64)}.`);
        const [row] = await db()`select * from inventory.items where sku = ${sku}`;
        if (!row) throw notFound(`No item ${sku}.`);
        return {
          sku: row.sku,
          name: row.name,
          priceCents: row.price_cents,
          available: row.available,
        };
      },
    },

    /** Current prices of the given skus, and which of them do not exist. */
    quote: {
      visibility: 'public',
      async handler(ctx) {
        const { skus } = ctx.params;
        const rows = await db()`
          select sku, price_cents from inventory.items where sku in ${db()(skus)}`;
        const found = new Set(rows.map((r) => r.sku));
        return {
          prices: rows.map((r) => ({ sku: r.sku, priceCents: r.price_cents })),
          unknown: skus.filter((s) => !found.has(s)),
        };
      },
    },

    /** Moves every line from available to reserved (all or none) and records the reservation. */
    reserve: {
      visibility: 'public',
      async handler(ctx) {
        const { orderId, lines } = ctx.params;
        const sql = db();
        const now = new Date();
        try {
          await transaction(async (tx) => {
            await tx`
              insert into inventory.reservations (order_id, status, created_at, updated_at)
              values (${orderId}, 'reserved', ${now}, ${now})`;
            // Sorted so that concurrent reservations lock rows in one order (no deadlock).
            for (const line of [...lines].sort(bySku)) {
              const taken = await tx`
                update inventory.items
                set available = available - ${line.qty}, reserved = reserved + ${line.qty}
                where sku = ${line.sku} and available >= ${line.qty}
                returning sku`;
              if (taken.length === 0) {
                const exists = await tx`select sku from inventory.items where sku = ${line.sku}`;
                throw exists.length
                  ? unprocessable('out_of_stock', `Not enough stock of ${line.sku}.`)
                  : unprocessable('unknown_item', `No item ${line.sku}.`);
              }
              await tx`
                insert into inventory.reservation_lines (order_id, sku, qty)
                values (${orderId}, ${line.sku}, ${line.qty})`;
            }
          });
        } catch (err) {
          if (err?.type !== 'unprocessable') throw err;
          // The same record bunshop leaves for a refused reservation.
          await sql`
            insert into inventory.reservations (order_id, status, reason, created_at, updated_at)
            values (${orderId}, 'rejected', ${err.data.reason}, ${now}, ${now})
            on conflict do nothing`;
          throw err;
        }
        return { status: 'reserved' };
      },
    },

    /** Compensation: returns an order's reserved stock to available. */
    release: {
      visibility: 'public',
      async handler(ctx) {
        const { orderId } = ctx.params;
        return transaction(async (tx) => {
          const [held] = await tx`
            update inventory.reservations set status = 'released', updated_at = ${new Date()}
            where order_id = ${orderId} and status = 'reserved'
            returning order_id`;
          if (!held) return { status: 'released' };
          await settle(tx, orderId, 'available');
          return { status: 'released' };
        });
      },
    },

    /** Turns an order's reserved stock into sold stock. */
    commit: {
      visibility: 'public',
      async handler(ctx) {
        const { orderId } = ctx.params;
        return transaction(async (tx) => {
          const [held] = await tx`
            update inventory.reservations set status = 'committed', updated_at = ${new Date()}
            where order_id = ${orderId} and status = 'reserved'
            returning order_id`;
          if (!held) throw appError('conflict', 409, 'This order has no reserved stock.');
          await settle(tx, orderId, 'sold');
          return { status: 'committed' };
        });
      },
    },
  },
};

/** Applies a reservation's lines to the counters: back to available, or on to sold. */
async function settle(tx, orderId, to) {
  const lines = await tx`
    select sku, qty from inventory.reservation_lines where order_id = ${orderId}`;
  for (const line of [...lines].sort(bySku)) {
    if (to === 'sold') {
      await tx`
        update inventory.items set reserved = reserved - ${line.qty}, sold = sold + ${line.qty}
        where sku = ${line.sku}`;
    } else {
      await tx`
        update inventory.items
        set reserved = reserved - ${line.qty}, available = available + ${line.qty}
        where sku = ${line.sku}`;
    }
  }
}
