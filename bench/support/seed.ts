import { join } from 'node:path';
import { sign } from 'hono/jwt';
import postgres from 'postgres';

/**
 * Bench data, the same for every target: 10,000 customers with accounts and ample balances,
 * 1,000 skus with ample stock, in bunshop's own schema (the peers use the same tables).
 * Rows go in with set-based SQL, and tokens are minted with the shared secret: seeding
 * through the API would spend minutes hashing passwords.
 */
export const benchSecret = 'bench-secret-that-is-long-enough-for-hs256-000000';
export const users = 10_000;
export const skus = 1_000;
const root = join(import.meta.dir, '..', '..');

export const seedSql = (passwordHash: string) => [
  `insert into "user".users (id, name, email, email_key, password_hash, role)
   select ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, 'Bench ' || n,
          'bench-' || n || '@example.com', 'bench-' || n || '@example.com', '${passwordHash}', 'customer'
   from generate_series(1, ${users}) n on conflict do nothing`,
  `insert into payment.accounts (user_id, balance_cents)
   select ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, 1000000000000
   from generate_series(1, ${users}) n on conflict do nothing`,
  `insert into inventory.items (sku, name, price_cents, available)
   select 'SKU-' || lpad(n::text, 4, '0'), 'Item ' || n, 100, 1000000000
   from generate_series(1, ${skus}) n on conflict do nothing`,
];

export const userId = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
export const sku = (n: number) => `SKU-${String(n).padStart(4, '0')}`;

/** Access tokens as bunshop issues them (HS256, iss/aud/exp), one per seeded user. */
export async function tokens(count = users): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000);
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      sign(
        {
          sub: userId(i + 1),
          role: 'customer',
          iss: 'bunshop',
          aud: 'bunshop-api',
          iat: now,
          nbf: now,
          exp: now + 6 * 3600,
        },
        benchSecret,
        'HS256',
      ),
    ),
  );
}

async function passwordHash(): Promise<string> {
  return Bun.password.hash('bench-password-1', {
    algorithm: 'argon2id',
    memoryCost: 19_456,
    timeCost: 2,
  });
}

/** A new Postgres database with bunshop's schema (applied by the CLI) and the bench data. */
export async function seedPostgres(adminUrl: string) {
  const name = `bunshop_bench_${Date.now().toString(36)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = adminUrl.replace(/\/[^/]*$/, `/${name}`);
  const migrate = Bun.spawnSync([process.execPath, join(root, 'src', 'main.ts'), 'migrate'], {
    env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn', JWT_SECRET: benchSecret },
    stdout: 'inherit',
    stderr: 'inherit',
  });
  if (migrate.exitCode !== 0) throw new Error('bunshop migrate failed');
  const db = postgres(url, { max: 1, onnotice: () => {} });
  for (const statement of seedSql(await passwordHash())) await db.unsafe(statement);
  await db.unsafe('vacuum analyze');
  await db.end();
  return {
    url,
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/**
 * ANALYZE each database: tables a W2 warm-up grew from empty (reservations, payments) otherwise
 * keep the sequential-scan plans prepared statements chose while they were empty, until
 * autovacuum gets to them, which on a server with autovacuum off is never (bench/README.md, W2).
 */
export async function analyze(databaseUrls: readonly string[]): Promise<void> {
  for (const url of databaseUrls) {
    const db = postgres(url, { max: 1, onnotice: () => {} });
    await db`analyze`.finally(() => db.end());
  }
}

/** An embedded PGlite data directory with the same schema and data, made before the node starts. */
export async function seedPglite(dataDir: string): Promise<void> {
  const { openPglite } = await import('../../src/db/pglite.ts');
  const { migrateModule } = await import('../../src/db/migrate.ts');
  const { allModules } = await import('../../src/main.ts');
  const database = await openPglite(dataDir);
  for (const def of allModules) await migrateModule(database, def.contract.name, def.migrations);
  for (const statement of seedSql(await passwordHash())) await database.exec(statement);
  await database.close();
}
