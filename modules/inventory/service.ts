import { asc, eq, gt, inArray, sql } from 'drizzle-orm';
import type * as v from 'valibot';
import { requireAdmin, requireSystem } from '../../src/context.ts';
import type { ServiceOf } from '../../src/contract.ts';
import { listStatement, statement } from '../../src/db/statement.ts';
import { AppError, isAppError } from '../../src/errors.ts';
import type { ModuleRuntime } from '../../src/module.ts';
import type { inventoryContract, item } from './contract.ts';
import { items, type ReservationStatus, reservations } from './schema.ts';
import {
  claim,
  commitReserved,
  rejection,
  reservedAlone,
  setStatus,
  takeStock,
  unreserveLines,
} from './stock.ts';

/** What an item shows; reads select only these columns (no timestamp to parse, fewer to map). */
const itemView = {
  sku: items.sku,
  name: items.name,
  priceCents: items.priceCents,
  available: items.available,
};

export function createInventoryService(rt: ModuleRuntime): ServiceOf<typeof inventoryContract> {
  const now = () => new Date(rt.clock.now());
  // An order's lines, up to 16 of them, price from a statement built once.
  const pricesOf = listStatement<Record<string, never>, { sku: string; priceCents: number }[]>(
    16,
    (on, skus) =>
      on
        .select({ sku: items.sku, priceCents: items.priceCents })
        .from(items)
        .where(inArray(items.sku, skus as string[])),
  );
  // The hottest read: its SQL is built once, not per request.
  const itemBySku = statement<{ sku: string }, v.InferOutput<typeof item>[]>((on) =>
    on
      .select(itemView)
      .from(items)
      .where(eq(items.sku, sql.placeholder('sku')))
      .limit(1),
  );

  return {
    async getItem({ sku }) {
      const [row] = await itemBySku(rt.db, { sku });
      if (!row) throw new AppError('not_found', `No item ${sku}.`);
      return row;
    },

    async listItems({ limit, after }) {
      const rows = await rt.db
        .select(itemView)
        .from(items)
        .where(after === undefined ? undefined : gt(items.sku, after))
        .orderBy(asc(items.sku))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      return { items: page, next: rows.length > limit ? page.at(-1)!.sku : null };
    },

    async putItem({ sku, name, priceCents, available }, ctx) {
      requireAdmin(ctx);
      const [row] = await rt.db
        .insert(items)
        .values({ sku, name, priceCents, available, updatedAt: now() })
        .onConflictDoUpdate({
          target: items.sku,
          set: { name, priceCents, available, updatedAt: now() },
        })
        .returning({
          sku: items.sku,
          name: items.name,
          priceCents: items.priceCents,
          available: items.available,
          created: sql<boolean>`(xmax = 0)`,
        });
      const { created, ...item } = row!;
      return { item, created: Boolean(created) };
    },

    async quote({ skus }, ctx) {
      requireSystem(ctx);
      const rows = skus.length ? await pricesOf(rt.db, {}, skus) : [];
      const found = new Set(rows.map((r) => r.sku));
      return { prices: rows, unknown: skus.filter((s) => !found.has(s)) };
    },

    async reserve({ orderId, lines }, ctx) {
      requireSystem(ctx);
      if (lines.length === 1 && (await reservedAlone(rt.db, orderId, lines[0]!, now())))
        return { status: 'reserved' as const };
      try {
        return await rt.db.transaction(async (tx) => {
          const slot = await claim(tx, orderId, 'reserved', now());
          if (!slot.claimed) return outcomeOf(slot.existing);
          await takeStock(tx, orderId, lines);
          return { status: 'reserved' as const };
        });
      } catch (err) {
        if (!isAppError(err) || err.code !== 'unprocessable') throw err;
        // Recorded so that a retry of this step gets the same answer.
        await rt.db.transaction((tx) =>
          claim(tx, orderId, 'rejected', now()).then(async (slot) => {
            if (slot.claimed) await setStatus(tx, orderId, 'rejected', now(), err.details.reason);
          }),
        );
        throw err;
      }
    },

    async release({ orderId }, ctx) {
      requireSystem(ctx);
      return rt.db.transaction(async (tx) => {
        // A release that arrives first leaves a tombstone, so a late reserve cannot take stock.
        const slot = await claim(tx, orderId, 'released', now());
        if (slot.claimed) return { status: 'released' as const };
        const { status } = slot.existing;
        if (status === 'committed')
          throw new AppError('conflict', 'The stock of this order is already sold.');
        if (status === 'reserved') {
          await unreserveLines(tx, orderId);
          await setStatus(tx, orderId, 'released', now());
        }
        return { status: status === 'rejected' ? 'rejected' : 'released' };
      });
    },

    async commit({ orderId }, ctx) {
      requireSystem(ctx);
      const [moved] = await commitReserved(rt.db, { orderId, now: now() });
      if (moved) return { status: 'committed' as const };
      const [row] = await rt.db
        .select({ status: reservations.status })
        .from(reservations)
        .where(eq(reservations.orderId, orderId));
      if (row?.status === 'committed') return { status: 'committed' as const };
      throw new AppError('conflict', 'This order has no reserved stock.');
    },
  };
}

function outcomeOf(existing: { status: ReservationStatus; reason: string | null }) {
  switch (existing.status) {
    case 'reserved':
    case 'committed':
      return { status: existing.status };
    case 'rejected':
      throw rejection(
        existing.reason === 'unknown_item' ? 'unknown_item' : 'out_of_stock',
        'an item',
      );
    default:
      throw new AppError('conflict', 'The stock of this order was already released.');
  }
}
