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
    // No pipelining: a BEGIN pipelined behind another query was never reserved for its
    // transaction (porsager/postgres#823), and deep pipelines collapse throughput (#747).
    // 0 works only with the onexecute fix in patches/postgres+3.4.9.patch (#1210).
    max_pipeline: 0,
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
