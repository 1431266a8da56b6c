import { afterAll, beforeAll, expect, test } from 'bun:test';
import { type Client, client } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';

/**
 * Where the monolith and the NATS topology legitimately differ, pinned down so that no
 * other difference can creep in unnoticed. Every other API test runs unchanged on both.
 */
const topology = process.env.BUNSHOP_TEST_TOPOLOGY === 'nats';
let target: Target;
let api: Client;

beforeAll(async () => {
  target = await startTarget();
  api = client(target.baseUrl);
}, 120_000);
afterAll(() => target?.stop());

test('/admin/nodes: one node hosting every module, or one node per role', async () => {
  const res = await api.get('/admin/nodes', { token: await api.adminToken() });
  expect(res.status).toBe(200);
  const nodes: { modules: string[] }[] = res.body.nodes;
  const hosted = nodes.flatMap((n) => n.modules).sort();
  if (topology) {
    // A gateway hosting nothing, one node each for user, inventory and payment, two order nodes.
    expect(nodes).toHaveLength(6);
    expect(hosted).toEqual(['inventory', 'order', 'order', 'payment', 'user']);
  } else {
    expect(nodes).toHaveLength(1);
    expect(hosted).toEqual(['inventory', 'order', 'payment', 'user']);
  }
});

test('everything a client sees of an order is the same: only the node that served it differs', async () => {
  const adminToken = await api.adminToken();
  await api.stock(adminToken, `DIV-${topology ? 'N' : 'L'}-1`, 100, 2);
  const buyer = await api.newUser('divergence');
  await api.deposit(buyer.token, 500);
  const res = await api.post(
    '/orders',
    { items: [{ sku: `DIV-${topology ? 'N' : 'L'}-1`, qty: 1 }] },
    { token: buyer.token },
  );
  expect(res.status).toBe(201);
  expect(Object.keys(res.body).sort()).toEqual([
    'createdAt',
    'id',
    'items',
    'status',
    'totalCents',
    'updatedAt',
    'userId',
  ]);
});
