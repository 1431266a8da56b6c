import postgres from 'postgres';

/** Where the Postgres-mode suites create their throwaway databases. */
export const adminUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test';

export type TestDb = 'pglite' | 'postgres';
export const testDb: TestDb = process.env.BUNSHOP_TEST_DB === 'postgres' ? 'postgres' : 'pglite';

/** A fresh database for one suite, dropped by `drop()`; CI shares the server, so names are unique. */
export async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `bunshop_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists "${name}" with (force)`);
      await a.end();
    },
  };
}

export async function postgresReachable(): Promise<boolean> {
  const sql = postgres(adminUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}
