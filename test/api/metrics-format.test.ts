import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type Client, client, uniqueSku } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';

// promtool comes from Debian's prometheus package (.ci/run installs it); outside CI its absence skips, loudly.
const promtoolPath = Bun.which('promtool');
const noPromtool = !promtoolPath && !process.env.CI;
if (noPromtool)
  console.warn(
    `${'!'.repeat(78)}\nSKIPPING promtool check metrics: promtool is not on PATH (apt-get install prometheus)\n${'!'.repeat(78)}`,
  );

const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const email = /[^\s@]+@[^\s@]+\.[a-z]{2,}/i;
const longNumber = /\d{8,}/;
/** A route label: `unmatched`, or a template whose segments are words or `{param}`. */
const template = /^(unmatched|\/|(\/([a-z][a-z0-9._-]*|\{[A-Za-z]+\}))+)$/;

interface Sample {
  name: string;
  labels: Record<string, string>;
}

/** The samples of a Prometheus text exposition, comments skipped. */
function samples(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [, name = '', body = ''] = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? \S+/.exec(line) ?? [];
      const pairs = [...body.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)];
      return { name, labels: Object.fromEntries(pairs.map((m) => [m[1]!, m[2]!])) };
    });
}

let target: Target;
let api: Client;
const seen: string[] = [];
let exposition = '';

beforeAll(async () => {
  target = await startTarget();
  api = client(target.baseUrl);
  // Traffic whose paths and bodies carry ids, emails and numbers, none of which may reach a label.
  const admin = await api.adminToken();
  const sku = uniqueSku('METRICS');
  await api.stock(admin, sku, 250, 5);
  const buyer = await api.newUser('metrics');
  seen.push(buyer.id, buyer.email, sku);
  expect((await api.get('/users/me', { token: buyer.token })).status).toBe(200);
  expect((await api.get(`/users/${buyer.id}`, { token: buyer.token })).status).toBe(200);
  const order = await api.post(
    '/orders',
    { items: [{ sku, qty: 1 }] },
    { token: buyer.token, headers: { 'Idempotency-Key': `metrics-${crypto.randomUUID()}` } },
  );
  expect([201, 202]).toContain(order.status);
  seen.push(order.body.id);
  await api.settled(buyer.token, order.body.id);
  const missing = crypto.randomUUID();
  const number = String(10_000_000_000 + Math.floor(Math.random() * 1e9));
  seen.push(missing, number);
  expect((await api.get(`/orders/${missing}`, { token: buyer.token })).status).toBe(404);
  expect((await api.get(`/inventory/items/SKU-${number}`)).status).toBe(404);
  expect((await api.get(`/nope/${missing}/${number}`)).status).toBe(404);
  await api.post('/auth/token', {
    email: `nobody-${number}@example.com`,
    password: 'wrong-pass-1',
  });
  const res = await fetch(`${target.baseUrl}/metrics`);
  expect(res.status).toBe(200);
  exposition = await res.text();
}, 60_000);
afterAll(() => target?.stop());

describe('GET /metrics on the gateway', () => {
  test.skipIf(noPromtool)('passes promtool check metrics with no lint problem', () => {
    if (!promtoolPath) throw new Error('promtool is not on PATH: apt-get install prometheus');
    const r = Bun.spawnSync([promtoolPath, 'check', 'metrics'], {
      stdin: Buffer.from(exposition),
      stdout: 'pipe',
      stderr: 'pipe',
    });
    // promtool prints each problem ("counter metrics should have _total suffix") and exits non-zero.
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.exitCode).toBe(0);
  });

  test('counted the traffic under route templates', () => {
    const routes = new Set(
      samples(exposition)
        .filter((s) => s.name === 'bunshop_http_requests_total')
        .map((s) => s.labels.route),
    );
    for (const route of ['/users/me', '/users/{id}', '/orders', '/orders/{id}', 'unmatched'])
      expect(routes).toContain(route);
  });

  test('no label value is an id, an email or a long number', () => {
    const offending = samples(exposition).flatMap((s) =>
      Object.entries(s.labels)
        // The node id names the process (like `instance`): one series per node, not per request.
        .filter(([k]) => !(s.name === 'bunshop_node_info' && k === 'node'))
        .filter(([, v]) => uuid.test(v) || email.test(v) || longNumber.test(v))
        .map(([k, v]) => `${s.name}{${k}="${v}"}`),
    );
    expect(offending).toEqual([]);
    for (const raw of seen) expect(exposition).not.toContain(raw);
  });

  test('every route label is `unmatched` or a template', () => {
    const routes = samples(exposition).flatMap((s) => s.labels.route ?? []);
    expect(routes.length).toBeGreaterThan(0);
    expect(routes.filter((r) => !template.test(r))).toEqual([]);
  });

  test('the series count stays bounded', () => {
    expect(samples(exposition).length).toBeLessThan(2000);
  });
});
