import { afterAll, beforeAll, expect, test } from 'bun:test';
import { client } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';

let target: Target;
let api: ReturnType<typeof client>;
beforeAll(async () => {
  target = await startTarget();
  api = client(target.baseUrl);
}, 60_000);
afterAll(() => target?.stop());

test('places an order end to end', async () => {
  const adminToken = await api.adminToken();
  await api.stock(adminToken, 'SMOKE-1', 250, 5);
  const user = await api.newUser();
  await api.deposit(user.token, 1000);
  const placed = await api.post(
    '/orders',
    { items: [{ sku: 'SMOKE-1', qty: 2 }] },
    { token: user.token },
  );
  expect(placed.status).toBe(201);
  expect(placed.body.status).toBe('CONFIRMED');
  expect(placed.body.totalCents).toBe(500);
});
