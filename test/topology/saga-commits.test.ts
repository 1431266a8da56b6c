import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { client } from '../support/client.ts';
import { createDatabase } from '../support/database.ts';
import { type NodeProcess, spawnNode } from '../support/process.ts';
import { admin, jwtSecret } from '../support/target.ts';

/**
 * Which saga writes may commit without waiting for their WAL flush (README, Durability): a
 * step's transition only where inventory and payment commit to the order module's own database,
 * never a write that extends the lease, never the finish. A trigger on the order database
 * records the `synchronous_commit` each update of a saga row ran under.
 */
type Database = Awaited<ReturnType<typeof createDatabase>>;
interface SagaWrite {
  phase: string;
  extends: boolean;
  mode: string;
}

const cwd = mkdtempSync(join(tmpdir(), 'bunshop-saga-commits-'));
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  rmSync(cwd, { recursive: true, force: true });
});

async function database(): Promise<Database> {
  const db = await createDatabase();
  cleanups.push(() => db.drop());
  return db;
}

async function start(env: Record<string, string>): Promise<NodeProcess> {
  const node = await spawnNode(
    {
      JWT_SECRET: jwtSecret,
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: admin.password,
      TRANSPORT: 'local',
      // The charge held past a third of the lease: the transition after it extends the lease.
      SAGA_LEASE_MS: '3000',
      BUNSHOP_TEST_DELAY: 'payment.charge:1500',
      ...env,
    },
    60_000,
    cwd,
  );
  cleanups.push(async () => {
    node.proc.kill('SIGTERM');
    await node.exited;
  });
  return node;
}

/** Records every update of a saga row on this (order) database, with the commit mode it ran under. */
async function recordSagaWrites(url: string): Promise<() => Promise<SagaWrite[]>> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  cleanups.push(() => sql.end());
  await sql.unsafe(`
    create table public.saga_writes (
      at bigserial primary key, phase text not null, extends boolean not null, mode text not null);
    create function public.record_saga_write() returns trigger language plpgsql as $$
    begin
      insert into public.saga_writes (phase, extends, mode) values (new.phase,
        coalesce(new.lease_until > old.lease_until, false), current_setting('synchronous_commit'));
      return new;
    end $$;
    create trigger record_saga_write after update on "order".sagas
      for each row execute function public.record_saga_write();`);
  return async () =>
    (await sql`select phase, extends, mode from public.saga_writes order by at`) as SagaWrite[];
}

/** One order through the whole saga, its charge held past a third of the lease. */
async function placeOrder(node: NodeProcess, sku: string): Promise<void> {
  const api = client(node.baseUrl);
  const adminToken = await api.adminToken();
  await api.stock(adminToken, sku, 300, 5);
  const buyer = await api.newUser(sku.toLowerCase());
  await api.deposit(buyer.token, 1_000);
  const placed = await api.post('/orders', { items: [{ sku, qty: 1 }] }, { token: buyer.token });
  expect(placed.status).toBe(201);
  expect(placed.body.status).toBe('CONFIRMED');
}

describe('one database for every module (the monolith)', () => {
  let node: NodeProcess;
  let writes: () => Promise<SagaWrite[]>;

  beforeAll(async () => {
    const db = await database();
    node = await start({ DATABASE_URL: db.url });
    writes = await recordSagaWrites(db.url);
  }, 120_000);

  test('step transitions commit lazily; lease extensions and the finish wait', async () => {
    await placeOrder(node, 'LAZY-1');
    const seen = await writes();
    const transitions = seen.filter((w) => w.phase !== 'done' && !w.extends);
    expect(transitions.length).toBeGreaterThan(0);
    expect(transitions.some((w) => w.mode === 'off')).toBe(true);
    const durable = seen.filter((w) => w.phase === 'done' || w.extends);
    expect(durable.some((w) => w.extends)).toBe(true);
    expect(durable.some((w) => w.phase === 'done')).toBe(true);
    expect(durable.every((w) => w.mode === 'on')).toBe(true);
  }, 60_000);
});

describe('the order module on a database of its own, in the same process', () => {
  let node: NodeProcess;
  let writes: () => Promise<SagaWrite[]>;

  beforeAll(async () => {
    const [shared, orders] = [await database(), await database()];
    node = await start({ DATABASE_URL: shared.url, DATABASE_URL_ORDER: orders.url });
    writes = await recordSagaWrites(orders.url);
  }, 120_000);

  test('every saga write waits for its flush: the steps commit elsewhere', async () => {
    await placeOrder(node, 'DURABLE-1');
    const seen = await writes();
    expect(seen.some((w) => w.phase !== 'done' && !w.extends)).toBe(true);
    expect(seen.every((w) => w.mode === 'on')).toBe(true);
  }, 60_000);
});
