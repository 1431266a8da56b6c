import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, client } from '../support/client.ts';
import { type NodeProcess, spawnNode } from '../support/process.ts';
import { admin, jwtSecret } from '../support/target.ts';

/** The domain metrics of one node that did real work: sagas of every outcome, events, the call matrix. */
const cwd = mkdtempSync(join(tmpdir(), 'bunshop-metrics-'));
let node: NodeProcess;
let api: Client;

beforeAll(async () => {
  node = await spawnNode(
    { JWT_SECRET: jwtSecret, ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password },
    60_000,
    cwd,
  );
  api = client(node.baseUrl);
  const adminToken = await api.adminToken();
  await api.stock(adminToken, 'MET-1', 100, 5);
  const buyer = await api.newUser('metrics');
  await api.deposit(buyer.token, 150);
  const order = async (sku: string, qty: number) =>
    (await api.post('/orders', { items: [{ sku, qty }] }, { token: buyer.token })).body;
  expect(await order('MET-1', 1)).toMatchObject({ status: 'CONFIRMED' });
  // Stock refuses at the first step: nothing to undo.
  expect(await order('MET-1', 50)).toMatchObject({ status: 'REJECTED', reason: 'out_of_stock' });
  // Reserved, then the charge fails: the reservation is compensated.
  expect(await order('MET-1', 1)).toMatchObject({
    status: 'REJECTED',
    reason: 'insufficient_funds',
  });
}, 90_000);

afterAll(async () => {
  node?.proc.kill('SIGTERM');
  await node?.exited;
  rmSync(cwd, { recursive: true, force: true });
});

/** The value of one series, or undefined; `labels` must match exactly. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (m?.[1] !== name) continue;
    if (
      m[2]!
        .split(/,(?=[a-z_]+=")/)
        .sort()
        .join(',') === want
    )
      return Number(m[3]);
  }
  return undefined;
}

test('saga outcomes tell confirmed, rejected and compensated apart, with reason and duration', async () => {
  const text = (await api.get('/metrics')).text;
  const outcome = (o: string, reason: string) =>
    sample(text, 'bunshop_saga_outcomes_total', { saga: 'place-order', outcome: o, reason });
  expect(outcome('confirmed', '')).toBe(1);
  expect(outcome('rejected', 'out_of_stock')).toBe(1);
  expect(outcome('compensated', 'insufficient_funds')).toBe(1);
  const durations = ['confirmed', 'rejected', 'compensated'].map((o) =>
    sample(text, 'bunshop_saga_duration_seconds_count', { saga: 'place-order', outcome: o }),
  );
  expect(durations).toEqual([1, 1, 1]);
});

test('the call matrix counts calls by caller and target, direct in one process', async () => {
  const text = (await api.get('/metrics')).text;
  const calls = (caller: string, module: string, action: string, code: string) =>
    sample(text, 'bunshop_module_calls_total', {
      caller,
      module,
      action,
      transport: 'direct',
      code,
    });
  expect(calls('gateway', 'order', 'placeOrder', 'ok')).toBe(3);
  expect(calls('order', 'inventory', 'reserve', 'ok')).toBe(2);
  expect(calls('order', 'payment', 'charge', 'ok')).toBe(1);
  expect(calls('order', 'payment', 'charge', 'insufficient_funds') ?? 0).toBe(0);
  const failedCharges = text
    .split('\n')
    .filter(
      (l) => /^bunshop_module_calls_total\{.*action="charge"/.test(l) && !/code="ok"/.test(l),
    );
  expect(failedCharges.length).toBe(1);
  // Direct calls are counted once, by their caller; the serving side counts only NATS calls.
  expect(text).not.toMatch(/^bunshop_module_handled_total\{/m);

  const token = await api.adminToken();
  const nodes = (await api.get('/admin/nodes', { token })).body.nodes;
  expect(nodes).toHaveLength(1);
  expect(nodes[0].calls).toContainEqual(
    expect.objectContaining({ caller: 'order', module: 'inventory', transport: 'direct' }),
  );
});

test('events and the outbox: deliveries handled, backlog drained, relay lag observed', async () => {
  const text = (await api.get('/metrics')).text;
  expect(
    sample(text, 'bunshop_event_deliveries_total', {
      event: 'user.created',
      module: 'payment',
      outcome: 'handled',
    }),
  ).toBeGreaterThanOrEqual(2);
  for (const module of ['user', 'order']) {
    expect(sample(text, 'bunshop_outbox_pending_events', { module })).toBe(0);
    expect(sample(text, 'bunshop_outbox_oldest_pending_age_seconds', { module })).toBe(0);
    expect(sample(text, 'bunshop_outbox_relay_lag_seconds_count', { module })).toBeGreaterThan(0);
  }
  expect(text).toMatch(/^bunshop_node_info\{.*transport="local".*\} 1$/m);
});
