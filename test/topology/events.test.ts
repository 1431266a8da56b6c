import { afterAll, beforeAll, expect, test } from 'bun:test';
import postgres from 'postgres';
import { type Client, client } from '../support/client.ts';
import { createDatabase } from '../support/database.ts';
import { admin, jwtSecret } from '../support/target.ts';
import { startTopology, type Topology } from '../support/topology.ts';

/** Events cross nodes through JetStream: published from one node's outbox, handled once on another. */
let db: Awaited<ReturnType<typeof createDatabase>>;
let topology: Topology;
let api: Client;
let sql: postgres.Sql;

beforeAll(async () => {
  db = await createDatabase();
  topology = await startTopology({
    DATABASE_URL: db.url,
    JWT_SECRET: jwtSecret,
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    LOG_LEVEL: 'info',
  });
  api = client(topology.gateway.baseUrl);
  sql = postgres(db.url, { max: 1, onnotice: () => {} });
}, 120_000);

afterAll(async () => {
  await sql?.end();
  await topology?.stop();
  await db?.drop();
});

async function eventually<T>(
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 15_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > until) return value;
    await Bun.sleep(100);
  }
}

test('user.created, published by the user node, opens the account on the payment node once', async () => {
  const users = await Promise.all([1, 2, 3].map(() => api.newUser('events')));
  const ids = users.map((u) => u.id);
  const accounts = await eventually(
    () => sql`select user_id from payment.accounts where user_id = any(${ids})`,
    (rows) => rows.length === ids.length,
  );
  expect(accounts.map((r) => r.user_id).sort()).toEqual([...ids].sort());
  const handled =
    await sql`select count(*)::int as n from payment.inbox i join "user".outbox o on o.id = i.event_id where o.payload->>'userId' = any(${ids})`;
  expect(handled[0]!.n).toBe(ids.length);
  const unpublished =
    await sql`select count(*)::int as n from "user".outbox where published_at is null`;
  expect(unpublished[0]!.n).toBe(0);
});

test('order events leave the order outbox once the saga finishes', async () => {
  const adminToken = await api.adminToken();
  await api.stock(adminToken, 'EVT-1', 100, 5);
  const buyer = await api.newUser('events-buyer');
  await api.deposit(buyer.token, 1_000);
  const placed = await api.post(
    '/orders',
    { items: [{ sku: 'EVT-1', qty: 1 }] },
    { token: buyer.token },
  );
  expect(placed.body.status).toBe('CONFIRMED');
  const rows = await eventually(
    () =>
      sql`select event, published_at from "order".outbox where payload->>'orderId' = ${placed.body.id}`,
    (r) => r.length === 1 && r[0]!.published_at !== null,
  );
  expect(rows.map((r) => r.event)).toEqual(['order.confirmed']);
  expect(rows[0]!.published_at).not.toBeNull();
});
