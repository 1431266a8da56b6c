import { and, eq, gte, type SQL, sql } from 'drizzle-orm';
import { typed as param, placeholder, sqlStatement, statement } from '../../src/db/statement.ts';
import type { Tx } from '../../src/db/types.ts';
import { accounts, type EntryKind, ledger, orderPayments } from './schema.ts';

// Built once (src/db/statement.ts): every deposit and refund posts through one of these.
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
/**
 * A ledger entry's id, a UUIDv7 (RFC 9562; the 12 bits after the version hold the fraction of
 * the millisecond), made by Postgres from `at`, the entry's time. Entries take id and time when
 * they are written, after their account row is locked: per account, "newest first" by id agrees
 * with `created_at` and with commit order, on one clock whichever node posts.
 */
const uuidV7 = (at: SQL) => {
  const ms = sql`(extract(epoch from ${at}) * 1000)`;
  return sql`encode(overlay(overlay(uuid_send(gen_random_uuid())
      placing substring(int8send(floor(${ms})::bigint) from 3) from 1 for 6)
      placing int2send((28672 + floor((${ms} - floor(${ms})) * 4096))::smallint) from 7 for 2),
    'hex')::uuid`;
};
const at = sql`c.at`;
const entryColumns = sql`(id, user_id, kind, amount_cents, balance_after_cents, order_id,
    idempotency_key, created_at)`;
/** From `(select clock_timestamp() as at) c`, evaluated for each entry as it is written. */
const stamp = sql`(select clock_timestamp() as at) c`;

const addEntry = sqlStatement<
  {
    userId: string;
    kind: EntryKind;
    amountCents: number;
    balanceAfterCents: number;
    orderId: string | null;
    idempotencyKey: string | null;
  },
  never
>(sql`insert into ${ledger} ${entryColumns}
  select ${uuidV7(at)}, ${param('userId', 'uuid')}, ${param('kind', 'text')},
    ${param('amountCents', 'bigint')}, ${param('balanceAfterCents', 'bigint')},
    ${param('orderId', 'uuid')}, ${param('idempotencyKey', 'text')}, ${at}
  from ${stamp}`);

const amount = param('amountCents', 'bigint');
/**
 * A charge in one statement, so one round trip and no transaction to open: the conditional
 * debit, its ledger entry, and the order's claim with the outcome ('charged', or 'rejected' when
 * the balance does not cover it). When the order was claimed already (a retry, or a refund that
 * came first), the claim's unique violation undoes the whole statement, debit included.
 */
export const chargeOnce = sqlStatement<
  { orderId: string; userId: string; amountCents: number; now: Date },
  { status: 'charged' | 'rejected' }
>(sql`with debit as (
    update ${accounts} set balance_cents = balance_cents - ${amount}
    where user_id = ${param('userId', 'uuid')} and balance_cents >= ${amount} and ${amount} > 0
    returning balance_cents),
  entry as (
    insert into ${ledger} ${entryColumns}
    select ${uuidV7(at)}, ${param('userId', 'uuid')}, 'charge', -${amount}, d.balance_cents,
      ${param('orderId', 'uuid')}, null, ${at}
    from debit d, lateral ${stamp})
  insert into ${orderPayments} (order_id, user_id, amount_cents, status, created_at, updated_at)
  values (${param('orderId', 'uuid')}, ${param('userId', 'uuid')}, ${amount},
    case when ${amount} = 0 or exists (select 1 from debit) then 'charged' else 'rejected' end,
    ${placeholder(orderPayments.createdAt, 'now')}, ${placeholder(orderPayments.updatedAt, 'now')})
  returning status`);

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
  await addEntry(tx, {
    userId: entry.userId,
    kind: entry.kind,
    amountCents: entry.amountCents,
    balanceAfterCents: updated.balance,
    orderId: entry.orderId ?? null,
    idempotencyKey: entry.idempotencyKey ?? null,
  });
  return updated.balance;
}
