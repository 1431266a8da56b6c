import { and, eq, gte, sql } from 'drizzle-orm';
import { placeholders, statement } from '../../src/db/statement.ts';
import type { Tx } from '../../src/db/types.ts';
import { accounts, type EntryKind, ledger } from './schema.ts';

// Built once (src/db/statement.ts): a charge posts on every order.
const move = (covered: boolean) =>
  statement<{ userId: string; amountCents: number }, { balance: number }[]>((on) =>
    on
      .update(accounts)
      .set({ balanceCents: sql`${accounts.balanceCents} + ${sql.placeholder('amountCents')}` })
      .where(
        and(
          eq(accounts.userId, sql.placeholder('userId')),
          // A debit's cover: the balance is at least what it takes away.
          covered
            ? gte(accounts.balanceCents, sql`-${sql.placeholder('amountCents')}::bigint`)
            : undefined,
        ),
      )
      .returning({ balance: accounts.balanceCents }),
  );
const debit = move(true);
const credit = move(false);
const addEntry = statement<typeof ledger.$inferInsert, unknown>((on) =>
  on
    .insert(ledger)
    .values(
      placeholders(
        'id',
        'userId',
        'kind',
        'amountCents',
        'balanceAfterCents',
        'orderId',
        'idempotencyKey',
        'createdAt',
      ),
    ),
);

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
  const debits = entry.amountCents < 0;
  if (!debits) await ensureAccount(tx, entry.userId, now());
  const [updated] = await (debits ? debit : credit)(tx, {
    userId: entry.userId,
    amountCents: entry.amountCents,
  });
  if (!updated) return undefined;
  const createdAt = now();
  await addEntry(tx, {
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
