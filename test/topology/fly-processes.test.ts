import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { allModules } from '../../src/main.ts';
import { type Client, client, uniqueSku } from '../support/client.ts';
import { createDatabase } from '../support/database.ts';
import { argv, killTimeoutMs, readFly } from '../support/fly.ts';
import { deleteEventStream, natsUrl } from '../support/nats.ts';
import { bunshopCommand, freePort, type NodeProcess, spawnNode } from '../support/process.ts';
import { admin, jwtSecret } from '../support/target.ts';

/**
 * fly.toml run as Fly runs it, on one machine: its release_command on a fresh database, then
 * every process group's exact command with its [env] and the secrets. Only what must differ
 * here does: free ports for PORT and METRICS_PORT, a subject prefix and database of its own.
 */
const fly = readFly();
const known = allModules.map((m) => m.contract.name);
const prefix = `fly${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const cwd = mkdtempSync(join(tmpdir(), 'bunshop-fly-'));
let db: Awaited<ReturnType<typeof createDatabase>>;
let api: Client;

interface Machine {
  group: string;
  node: NodeProcess;
  port: number;
  metricsPort: number;
}
const machines: Machine[] = [];

/** What a Machine sees: fly.toml's [env], then the secrets `fly secrets set` gives it. */
function machineEnv(port: number, metricsPort: number): Record<string, string> {
  return {
    ...fly.env,
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
    DATABASE_URL: db.url,
    NATS_URL: natsUrl,
    JWT_SECRET: jwtSecret,
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    SUBJECT_PREFIX: prefix,
  };
}

/** The check Fly runs on a group's Machines: the http_service's for the gateway, else [checks]. */
function checkPath(group: string): string {
  if (fly.http_service?.processes?.includes(group)) return fly.http_service.checks![0]!.path!;
  const check = Object.values(fly.checks ?? {}).find((c) => c.processes?.includes(group));
  if (!check?.path) throw new Error(`fly.toml has no check for ${group}`);
  return check.path;
}

async function eventuallyOk(url: string, timeoutMs = 30_000): Promise<Response> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(url).catch(() => undefined);
    if (res?.status === 200 || Date.now() > until) return res ?? Response.error();
    await Bun.sleep(200);
  }
}

beforeAll(async () => {
  db = await createDatabase();
}, 30_000);

afterAll(async () => {
  for (const m of machines) m.node.proc.kill('SIGKILL');
  await Promise.all(machines.map((m) => m.node.exited));
  await deleteEventStream(prefix);
  await db?.drop();
  rmSync(cwd, { recursive: true, force: true });
});

test('release_command migrates every module schema on a fresh database, and exits 0', async () => {
  const release = Bun.spawn([...bunshopCommand(), ...argv(fly.deploy!.release_command!)], {
    cwd,
    env: { ...process.env, ...machineEnv(freePort(), freePort()) },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [out, err, code] = await Promise.all([
    new Response(release.stdout).text(),
    new Response(release.stderr).text(),
    release.exited,
  ]);
  expect({ code, err }).toEqual({ code: 0, err: '' });
  expect(out).toContain('migrations up to date');
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`select schema_name from information_schema.schemata`;
    expect(rows.map((r) => r.schema_name)).toEqual(expect.arrayContaining(known));
  } finally {
    await sql.end();
  }
}, 60_000);

test('every process group starts from its fly.toml command and passes its Fly check', async () => {
  const groups = Object.entries(fly.processes);
  // Each node is recorded as it starts, so that one failing start still stops the others.
  await Promise.all(
    groups.map(async ([group, command]) => {
      const port = freePort();
      const metricsPort = freePort();
      const node = await spawnNode(machineEnv(port, metricsPort), 60_000, cwd, argv(command));
      machines.push({ group, node, port, metricsPort });
    }),
  );
  for (const m of machines) {
    const ready = await eventuallyOk(`http://127.0.0.1:${m.port}${checkPath(m.group)}`);
    expect({ group: m.group, status: ready.status }).toEqual({ group: m.group, status: 200 });
  }
  api = client(machines.find((m) => m.group === 'gateway')!.node.baseUrl);
}, 120_000);

test('[[metrics]] finds every node on its METRICS_PORT', async () => {
  for (const metrics of fly.metrics ?? []) {
    for (const m of machines.filter((m) => metrics.processes?.includes(m.group) ?? true)) {
      const res = await fetch(`http://127.0.0.1:${m.metricsPort}${metrics.path}`);
      expect({ group: m.group, status: res.status }).toEqual({ group: m.group, status: 200 });
      expect(await res.text()).toContain('bunshop_node_info');
    }
  }
});

test('the gateway serves the API across the groups: nodes, stock, sign-up, an order', async () => {
  const adminToken = await api.adminToken();
  const nodes = await api.get('/admin/nodes', { token: adminToken });
  expect(nodes.status).toBe(200);
  const hosted = nodes.body.nodes.flatMap((n: { modules: string[] }) => n.modules);
  expect([...new Set(hosted)].sort()).toEqual([...known].sort());

  const sku = uniqueSku('FLY');
  await api.stock(adminToken, sku, 300, 5);
  const buyer = await api.newUser('fly');
  await api.deposit(buyer.token, 1_000);
  const placed = await api.post('/orders', { items: [{ sku, qty: 2 }] }, { token: buyer.token });
  expect(placed.status).toBe(201);
  expect(placed.body.status).toBe('CONFIRMED');
  expect((await api.get('/accounts/me', { token: buyer.token })).body.balanceCents).toBe(400);
}, 60_000);

test('on SIGTERM readiness turns 503 first, then every node exits 0 within kill_timeout', async () => {
  const gateway = machines.find((m) => m.group === 'gateway')!;
  const began = Date.now();
  for (const m of machines) m.node.proc.kill('SIGTERM');
  // Still serving, but the check Fly's proxy runs now fails: it stops routing here first.
  await Bun.sleep(300);
  const ready = await fetch(`http://127.0.0.1:${gateway.port}${checkPath('gateway')}`);
  expect(ready.status).toBe(503);
  const codes = await Promise.all(machines.map(async (m) => [m.group, await m.node.exited]));
  expect(codes).toEqual(machines.map((m) => [m.group, 0]));
  expect(Date.now() - began).toBeLessThan(killTimeoutMs(fly));
  expect(Date.now() - began).toBeGreaterThanOrEqual(Number(fly.env.SHUTDOWN_DELAY_MS));
}, 120_000);
