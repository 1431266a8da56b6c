import { afterAll, beforeAll, expect, test } from 'bun:test';
import postgres from 'postgres';
import { poolOptions } from '../../src/db/postgres.ts';
import { createDatabase, testDb } from '../support/database.ts';

/**
 * postgres.js as bunshop configures it keeps every transaction on its own connection under
 * bursts. Unpatched 3.4.9 with pipelining reserved no connection for a BEGIN queued behind
 * another query (porsager/postgres#823): a third of these transactions failed with
 * UNSAFE_TRANSACTION, and other requests' queries could run inside them.
 */
let db: Awaited<ReturnType<typeof createDatabase>>;
let sql: postgres.Sql;

beforeAll(async () => {
  if (testDb !== 'postgres') return;
  db = await createDatabase();
  sql = postgres(db.url, poolOptions(10));
});

afterAll(async () => {
  await sql?.end();
  await db?.drop();
});

/** Per group: a plain query, a transaction that marks its session, a plain read of the mark. */
function burst(groups: number) {
  return Promise.allSettled(
    Array.from({ length: groups }).flatMap((_, i) => [
      sql`select ${i}::int as n, current_setting('application_name') as app`.then(([row]) =>
        row?.app === 'inside_a_transaction' ? row.app : 'plain',
      ),
      sql.begin(async (tx) => {
        await tx`set local application_name = 'inside_a_transaction'`;
        await tx`select 1`;
        await tx`select 2`;
        return 'transaction';
      }),
      sql`select current_setting('application_name') as app`.then(([row]) => String(row?.app)),
    ]),
  );
}

test.skipIf(testDb !== 'postgres')(
  'transactions and plain queries never mix',
  async () => {
    const outcomes: PromiseSettledResult<string>[] = [];
    for (let round = 0; round < 10; round++) outcomes.push(...(await burst(200)));
    const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []));
    expect(failures.slice(0, 3)).toEqual([]);
    const values = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    expect(values).toHaveLength(6000);
    expect(values.filter((v) => v === 'inside_a_transaction')).toEqual([]);
  },
  60_000,
);
