import { sql } from 'drizzle-orm';
import { isMissingRelation, rootCause } from './errors.ts';
import type { Database, Tx } from './types.ts';

/** One SQL migration as drizzle-kit generated it, embedded in the build. */
export interface Migration {
  tag: string;
  sql: string;
}

const breakpoint = '--> statement-breakpoint';

const bootstrap = [
  'CREATE SCHEMA IF NOT EXISTS bunshop',
  `CREATE TABLE IF NOT EXISTS bunshop.migrations (
    module text NOT NULL,
    tag text NOT NULL,
    hash text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (module, tag)
  )`,
];

function hashOf(text: string): string {
  return new Bun.CryptoHasher('sha256').update(text).digest('hex');
}

/**
 * Applies a module's pending migrations, each in its own transaction, under an advisory
 * lock so that nodes starting together never apply one twice. Returns the tags applied.
 */
export async function migrateModule(
  database: Database,
  module: string,
  migrations: readonly Migration[],
  recorded?: Recorded,
): Promise<string[]> {
  // The common start: everything applied already. One read, no locks, no transactions.
  if (upToDate(recorded ?? (await recordedMigrations(database)), module, migrations)) return [];
  // Nodes starting together race on CREATE SCHEMA IF NOT EXISTS; a lock makes them take turns.
  await database.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('bunshop.migrate'))`);
    for (const statement of bootstrap) await tx.execute(sql.raw(statement));
  });
  const applied: string[] = [];
  for (const migration of migrations) {
    const done = await database.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`bunshop.migrate.${module}`}))`);
      const hash = hashOf(migration.sql);
      const previous = await appliedHash(tx, module, migration.tag);
      if (previous !== undefined) {
        if (previous !== hash) {
          throw new Error(
            `migration ${module}/${migration.tag} changed after it was applied; restore it and add a new migration instead`,
          );
        }
        return false;
      }
      for (const statement of migration.sql.split(breakpoint)) {
        if (statement.trim()) await tx.execute(sql.raw(statement));
      }
      await tx.execute(
        sql`insert into bunshop.migrations (module, tag, hash) values (${module}, ${migration.tag}, ${hash})`,
      );
      return true;
    });
    if (done) applied.push(migration.tag);
  }
  return applied;
}

async function appliedHash(tx: Tx, module: string, tag: string): Promise<string | undefined> {
  const result = await tx.execute(
    sql`select hash from bunshop.migrations where module = ${module} and tag = ${tag}`,
  );
  return rowsOf<{ hash: string }>(result)[0]?.hash;
}

/** Every module's recorded migrations in a database, tag to hash; empty when it has none yet. */
export type Recorded = Map<string, Map<string, string>>;

/** One read for all the modules that share a database, so a node's start costs one round trip. */
export async function recordedMigrations(database: Database): Promise<Recorded> {
  const recorded: Recorded = new Map();
  let rows: { module: string; tag: string; hash: string }[];
  try {
    rows = rowsOf(await database.db.execute(sql`select module, tag, hash from bunshop.migrations`));
  } catch (err) {
    if (isMissingRelation(err)) return recorded; // No bookkeeping table yet: a new database.
    // The first statement a node sends at start: unreachable, unknown database or no rights.
    throw new Error(`cannot read migrations from ${database.describe}: ${rootCause(err)}`, {
      cause: err,
    });
  }
  for (const r of rows) {
    const tags = recorded.get(r.module) ?? new Map<string, string>();
    recorded.set(r.module, tags.set(r.tag, r.hash));
  }
  return recorded;
}

/** True when every migration is recorded with the hash of the SQL this build carries. */
function upToDate(recorded: Recorded, module: string, migrations: readonly Migration[]): boolean {
  const applied = recorded.get(module);
  return migrations.every((m) => applied?.get(m.tag) === hashOf(m.sql));
}

/** postgres.js answers `execute` with the rows, PGlite with `{ rows }`. */
function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as T[];
}
