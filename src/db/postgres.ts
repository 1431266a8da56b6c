import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { traceTransactions } from './traced.ts';
import type { Database, Db } from './types.ts';

export interface PostgresOptions {
  url: string;
  poolSize: number;
}

/** Postgres through postgres.js. */
export async function openPostgres({ url, poolSize }: PostgresOptions): Promise<Database> {
  const client = postgres(url, {
    max: poolSize,
    // Pipelining many queries on few connections collapses throughput under load (porsager/postgres#747).
    max_pipeline: 1,
    onnotice: () => {},
    // No array columns or parameters here. Its type query runs detached on every new connection,
    // and a connection lost during it was an unhandled rejection that ended the process.
    fetch_types: false,
    connect_timeout: 10,
  } as postgres.Options<Record<string, never>>);
  const db = traceTransactions(
    drizzle({ client }) as unknown as Db,
    'postgresql',
    databaseName(url),
  );
  await client`select 1`;
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
