import postgres from 'postgres';

/**
 * One postgres.js pool per process, shared by the services the process hosts (as bunshop shares
 * one pool per database). Client options as bunshop's src/db/postgres.ts: DB_POOL_SIZE (default 10)
 * connections, max_pipeline 1; int8 columns come back as numbers (bunshop's drizzle columns use
 * mode 'number'). One difference: fetch_types stays on (postgres.js's default; one query per new
 * connection, none per request), because in postgres.js 3.4.9 with fetch_types off, sql.reserve()
 * that has to open a new connection never resolves (see transaction() below).
 */
let pool;

export function db() {
  if (!pool) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is required');
    pool = postgres(url, {
      max: Number(process.env.DB_POOL_SIZE ?? 10),
      max_pipeline: 1,
      connect_timeout: 10,
      onnotice: () => {},
      types: {
        bigint: {
          to: 20,
          from: [20],
          serialize: (x) => String(x),
          parse: (x) => Number(x),
        },
      },
    });
  }
  return pool;
}

export async function closeDb() {
  if (pool) {
    const p = pool;
    pool = undefined;
    await p.end({ timeout: 5 });
  }
}

/**
 * Runs fn(tx) in one transaction on a reserved connection: BEGIN, fn's queries, COMMIT (ROLLBACK
 * when fn throws), the same round trips as sql.begin. Not sql.begin itself: in postgres.js 3.4.9,
 * a BEGIN pipelined behind another query on a connection skips the reservation hook, and under
 * concurrency the transaction fails with UNSAFE_TRANSACTION or, worse, shares its connection
 * (porsager/postgres#823, #1189; with max_pipeline 1 a BEGIN is always at the pipeline boundary
 * when it is pipelined). sql.reserve() marks the connection reserved before anything is sent.
 */
export async function transaction(fn) {
  const tx = await db().reserve();
  try {
    await tx`begin`;
    let result;
    try {
      result = await fn(tx);
    } catch (err) {
      await tx`rollback`.catch(() => {});
      throw err;
    }
    await tx`commit`;
    return result;
  } finally {
    tx.release();
  }
}
