import { and, eq, gte, sql } from 'drizzle-orm';
import type { Tx } from '../../src/db/types.ts';
import { accounts, type EntryKind, ledger } from './schema.ts';

export async function ensureAccount(tx: Tx, userId: string, now: Date): Promise<void> {
  await tx
    .insert(accounts)
    .values({ userId, balanceCents: 0, createdAt: now })
    .onConflictDoNothing();
}

/**
 * Moves money and writes the ledger entry in one transaction, so the balance is always
 * the sum of the entries. A debit is a conditional update: it never overdraws.
 * Returns the new balance, or undefined when the balance is too small.
 * The entry's id and time are taken after the account row is locked, so that per account
 * "newest first" by id agrees with `createdAt` and with commit order.
 */
export async function post(
  tx: Tx,
  entry: {
    userId: string;
    kind: EntryKind;
    amountCents: number;
    orderId?: string;
    idempotencyKey?: string;
  },
  now: () => Date,
): Promise<number | undefined> {
  // A debit needs no account row: without one, the conditional update below finds nothing.
  const debit = entry.amountCents < 0;
  if (!debit) await ensureAccount(tx, entry.userId, now());
  const covered = debit ? gte(accounts.balanceCents, -entry.amountCents) : undefined;
  const [updated] = await tx
    .update(accounts)
    .set({ balanceCents: sql`${accounts.balanceCents} + ${entry.amountCents}` })
    .where(and(eq(accounts.userId, entry.userId), covered))
    .returning({ balance: accounts.balanceCents });
  if (!updated) return undefined;
  const createdAt = now();
  await tx.insert(ledger).values({
    id: Bun.randomUUIDv7('hex', createdAt),
    userId: entry.userId,
    kind: entry.kind,
    amountCents: entry.amountCents,
    balanceAfterCents: updated.balance,
    orderId: entry.orderId ?? null,
    idempotencyKey: entry.idempotencyKey ?? null,
    createdAt,
  });
  return updated.balance;
}
