import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import { bigint, jsonb, pgSchema, text } from 'drizzle-orm/pg-core';
import { timestampTz } from '../../src/db/columns.ts';
import { commitsLazily } from '../../src/db/commit.ts';
import { openPglite } from '../../src/db/pglite.ts';
import { openPostgres } from '../../src/db/postgres.ts';
import { placeholder, sqlStatement, statement } from '../../src/db/statement.ts';
import type { Database } from '../../src/db/types.ts';
import { createDatabase, testDb } from '../support/database.ts';

/** statement(): SQL built once, run on the database or inside a caller's transaction. */
const notes = pgSchema('statements_test').table('notes', {
  id: text('id').primaryKey(),
  cents: bigint('cents', { mode: 'number' }).notNull(),
  body: jsonb('body').$type<{ tags: string[] }>().notNull(),
  at: timestampTz('at').notNull(),
});
type Note = typeof notes.$inferSelect;

const insert = statement<Note, Note[]>((on) =>
  on
    .insert(notes)
    .values({
      id: sql.placeholder('id'),
      cents: sql.placeholder('cents'),
      body: sql.placeholder('body'),
      at: sql.placeholder('at'),
    })
    .returning(),
);
const byId = statement<{ id: string }, Note[]>((on) =>
  on
    .select()
    .from(notes)
    .where(eq(notes.id, sql.placeholder('id'))),
);
const touch = statement<{ id: string; at: Date; body: Note['body'] }, { id: string }[]>((on) =>
  on
    .update(notes)
    .set({ at: placeholder(notes.at, 'at'), body: placeholder(notes.body, 'body') })
    .where(eq(notes.id, sql.placeholder('id')))
    .returning({ id: notes.id }),
);
/** `touch` for bookkeeping that may commit without waiting for its WAL flush. */
const touchLazily = statement<{ id: string; at: Date }, { id: string }[]>((on) =>
  on
    .update(notes)
    .set({ at: placeholder(notes.at, 'at') })
    .where(and(eq(notes.id, sql.placeholder('id')), commitsLazily))
    .returning({ id: notes.id }),
);
const synchronousCommit = sqlStatement<Record<string, never>, { setting: string }>(
  sql`select current_setting('synchronous_commit') as setting`,
);

let database: Database;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  if (testDb === 'postgres') {
    const pg = await createDatabase();
    database = await openPostgres({ url: pg.url, poolSize: 4 });
    cleanup = pg.drop;
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'bunshop-statements-'));
    database = await openPglite(join(dir, 'data'));
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  await database.exec(`create schema statements_test;
    create table statements_test.notes (id text primary key, cents bigint not null,
      body jsonb not null, at timestamptz not null)`);
}, 60_000);

afterAll(async () => {
  await database?.close();
  await cleanup?.();
});

const at = new Date('2026-01-02T03:04:05.678Z');

test('a statement maps values both ways, as drizzle does', async () => {
  const [written] = await insert(database.db, {
    id: 'a',
    cents: 2 ** 40,
    body: { tags: ['x'] },
    at,
  });
  expect(written).toEqual({ id: 'a', cents: 2 ** 40, body: { tags: ['x'] }, at });
  expect(await byId(database.db, { id: 'a' })).toEqual([written!]);
  const later = new Date(at.getTime() + 1000);
  expect(await touch(database.db, { id: 'a', at: later, body: { tags: [] } })).toEqual([
    { id: 'a' },
  ]);
  expect((await byId(database.db, { id: 'a' }))[0]).toMatchObject({
    at: later,
    body: { tags: [] },
  });
});

test("inside a transaction a statement runs on the transaction's connection", async () => {
  const failure = new Error('roll back');
  const seen = await database.db
    .transaction(async (tx) => {
      await insert(tx, { id: 'b', cents: 1, body: { tags: [] }, at });
      const inside = await byId(tx, { id: 'b' });
      // Postgres: another connection does not see the uncommitted row (PGlite has only one).
      const outside = testDb === 'postgres' ? await byId(database.db, { id: 'b' }) : [];
      throw Object.assign(failure, { inside, outside });
    })
    .catch((err) => err);
  expect(seen).toBe(failure);
  expect(seen.inside).toHaveLength(1);
  expect(seen.outside).toEqual([]);
  expect(await byId(database.db, { id: 'b' })).toEqual([]);

  await database.db.transaction((tx) => insert(tx, { id: 'c', cents: 1, body: { tags: [] }, at }));
  expect(await byId(database.db, { id: 'c' })).toHaveLength(1);
});

test('a lazily committed statement writes, and turns synchronous_commit off for its own transaction only', async () => {
  await insert(database.db, { id: 'd', cents: 1, body: { tags: [] }, at });
  const setting = async (on: Parameters<typeof byId>[0]) =>
    (await synchronousCommit(on, {}))[0]!.setting;
  const later = new Date(at.getTime() + 1000);
  const inside = await database.db.transaction(async (tx) => {
    expect(await setting(tx)).toBe('on');
    expect(await touchLazily(tx, { id: 'd', at: later })).toEqual([{ id: 'd' }]);
    return setting(tx);
  });
  expect(inside).toBe('off');
  // Alone, it is its own transaction: the connection keeps committing synchronously after it.
  for (let i = 0; i < 4; i++) await touchLazily(database.db, { id: 'd', at: later });
  for (let i = 0; i < 4; i++) expect(await setting(database.db)).toBe('on');
  expect((await byId(database.db, { id: 'd' }))[0]?.at).toEqual(later);
});
