import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';

/** A drizzle database, whichever driver (PGlite or postgres.js) is underneath. */
// biome-ignore lint/suspicious/noExplicitAny: both drivers' schemas are untyped here
export type Db = PgDatabase<PgQueryResultHKT, any>;
// biome-ignore lint/suspicious/noExplicitAny: both drivers' transactions share this shape
export type Tx = PgTransaction<PgQueryResultHKT, any, any>;
/** Anything a query can run on: the database or an open transaction. */
export type Queryable = Db | Tx;

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  /** Where the data lives, without credentials, for start-up lines and health output. */
  readonly describe: string;
  readonly db: Db;
  /** Runs SQL text with no parameters; used by migrations only. */
  exec(sqlText: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
