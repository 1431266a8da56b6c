import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { preparingAll } from './prepared.ts';
import { traceTransactions } from './traced.ts';
import type { Database, Db } from './types.ts';

export interface PostgresOptions {
  url: string;
  poolSize: number;
}

/** The pool settings bunshop runs postgres.js with; a test holds them to their promise. */
export function poolOptions(poolSize: number): postgres.Options<Record<string, never>> {
  return {
    max: poolSize,
    // One query pipelined behind the one running: on this 2-core machine 32 clients on 10
    // connections got 31-34k simple queries/s at 1 against 20-22k at 0, with less CPU per query.
    // Deeper pipelines collapse throughput under load (porsager/postgres#747). A BEGIN always
    // reserves its connection and never leaves room behind it, per patches/postgres+3.4.9.patch
    // (porsager/postgres#823, #1210; PRs #1211/#1218); test/recovery/postgres-pool.test.ts holds it.
    max_pipeline: 1,
    onnotice: () => {},
    // No array columns or parameters here. Its type query runs detached on every new connection,
    // and a connection lost during it was an unhandled rejection that ended the process.
    fetch_types: false,
    connect_timeout: 10,
  } as postgres.Options<Record<string, never>>;
}

/** Postgres through postgres.js. */
export async function openPostgres({ url, poolSize }: PostgresOptions): Promise<Database> {
  const client = postgres(url, poolOptions(poolSize));
  const db = traceTransactions(
    drizzle({ client: preparingAll(client) }) as unknown as Db,
    'postgresql',
    databaseName(url),
  );
  // No round trip here: the first statement (at start, the migrations read) opens the connection.
  return {
    kind: 'postgres',
    describe: `postgres ${redactUrl(url)}`,
    db,
    exec: async (sqlText) => {
      await client.unsafe(sqlText);
    },
    ping: async () => {
      await client`select 1`;
    },
    close: () => client.end({ timeout: 5 }),
  };
}

function databaseName(url: string): string {
  try {
    return new URL(url).pathname.slice(1) || 'postgres';
  } catch {
    return 'postgres';
  }
}

/** The URL without its password, safe for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable database URL)';
  }
}
