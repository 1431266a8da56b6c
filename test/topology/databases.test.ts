import { afterAll, beforeAll, expect, test } from 'bun:test';
import postgres from 'postgres';
import { type Client, client } from '../support/client.ts';
import { createDatabase } from '../support/database.ts';
import { admin, jwtSecret } from '../support/target.ts';
import { startTopology, type Topology } from '../support/topology.ts';

/** DATABASE_URL_<MODULE>: each module in a database of its own, and nothing crosses them. */
const modules = ['user', 'inventory', 'payment', 'order'] as const;
const dbs = new Map<string, Awaited<ReturnType<typeof createDatabase>>>();
let topology: Topology;
let api: Client;

beforeAll(async () => {
  for (const m of modules) dbs.set(m, await createDatabase());
  topology = await startTopology({
    ...Object.fromEntries(modules.map((m) => [`DATABASE_URL_${m.toUpperCase()}`, dbs.get(m)!.url])),
    JWT_SECRET: jwtSecret,
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
  });
  api = client(topology.gateway.baseUrl);
}, 120_000);

afterAll(async () => {
  await topology?.stop();
  for (const db of dbs.values()) await db.drop();
});

test('an order crosses four databases, and each holds only its own module schema', async () => {
  const adminToken = await api.adminToken();
  await api.stock(adminToken, 'SPLIT-1', 250, 3);
  const buyer = await api.newUser('split');
  await api.deposit(buyer.token, 1_000);
  const placed = await api.post(
    '/orders',
    { items: [{ sku: 'SPLIT-1', qty: 2 }] },
    { token: buyer.token },
  );
  expect(placed.status).toBe(201);
  expect(placed.body.status).toBe('CONFIRMED');
  expect((await api.get('/accounts/me', { token: buyer.token })).body.balanceCents).toBe(500);

  for (const m of modules) {
    const sql = postgres(dbs.get(m)!.url, { max: 1, onnotice: () => {} });
    try {
      const schemas = await sql`select schema_name from information_schema.schemata
        where schema_name in ('user', 'inventory', 'payment', 'order') order by schema_name`;
      expect(schemas.map((r) => r.schema_name)).toEqual([m]);
    } finally {
      await sql.end();
    }
  }
});
