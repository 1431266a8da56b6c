import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { type Client, client, isProblem } from '../support/client.ts';
import { createDatabase } from '../support/database.ts';
import { deleteEventStream, natsUrl } from '../support/nats.ts';
import { type NodeProcess, spawnNode } from '../support/process.ts';
import { admin, jwtSecret } from '../support/target.ts';

/** A deployment where the inventory module has no running instance at all. */
const prefix = `p${Date.now().toString(36)}`;
const cwd = mkdtempSync(join(tmpdir(), 'bunshop-partial-'));
let db: Awaited<ReturnType<typeof createDatabase>>;
const nodes: NodeProcess[] = [];
let api: Client;
// An inventory instance of an older build: its service and subjects carry no call format.
let older: NatsConnection;
let olderCalls = 0;

beforeAll(async () => {
  older = await connect({ servers: natsUrl });
  const service = await older.services.add({
    name: `${prefix}-inventory`,
    version: '0.0.1',
    metadata: { node: `${prefix}-older-inventory`, module: 'inventory' },
    queue: `${prefix}-inventory`,
  });
  for (const action of ['getItem', 'listItems']) {
    service.addEndpoint(action, {
      subject: `${prefix}.svc.inventory.${action}`,
      handler: (_err, msg) => {
        olderCalls++;
        msg.respond(new TextEncoder().encode(JSON.stringify({ sku: 'ANY-1', name: 'misread' })));
      },
    });
  }
  db = await createDatabase();
  const env = {
    DATABASE_URL: db.url,
    JWT_SECRET: jwtSecret,
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    TRANSPORT: 'nats',
    SUBJECT_PREFIX: prefix,
  };
  nodes.push(await spawnNode({ ...env, MODULES: 'user', NODE_ID: `${prefix}-user` }, 60_000, cwd));
  nodes.push(
    await spawnNode(
      { ...env, MODULES: 'none', GATEWAY: 'true', NODE_ID: `${prefix}-gw` },
      60_000,
      cwd,
    ),
  );
  api = client(nodes[1]!.baseUrl);
}, 90_000);

afterAll(async () => {
  for (const n of nodes) n.proc.kill('SIGTERM');
  await Promise.all(nodes.map((n) => n.exited));
  await older?.close();
  await db?.drop();
  await deleteEventStream(prefix);
  rmSync(cwd, { recursive: true, force: true });
});

test('a module with no instance answers 503 with Retry-After, and its breaker opens', async () => {
  const first = await api.get('/inventory/items/ANY-1');
  expect(isProblem(first, 503)).toBe(true);
  expect(first.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(first.body.type).toBe('urn:bunshop:problem:unavailable');
  for (let i = 0; i < 8; i++) expect((await api.get('/inventory/items')).status).toBe(503);
  const metrics = await api.get('/metrics');
  expect(metrics.text).toMatch(/bunshop_circuit_breaker_state\{module="inventory"\} 2/);
  // A hosted module is unaffected: sign-up and sign-in go through the user node.
  const user = await api.newUser('partial');
  expect((await api.get('/users/me', { token: user.token })).body.id).toBe(user.id);
});

test('an instance of an older call format is neither called nor counted as ready', async () => {
  const res = await api.get('/inventory/items/ANY-1');
  expect(isProblem(res, 503)).toBe(true);
  expect(olderCalls).toBe(0);
  const ready = await api.get('/health/ready');
  expect(ready.status).toBe(503);
  expect(ready.body.checks['module:inventory']).toMatchObject({ ok: false });
  expect(ready.body.checks['module:user']).toMatchObject({ ok: true });
});

test('/admin/nodes lists the live nodes and what each hosts', async () => {
  const token = await api.adminToken();
  const res = await api.get('/admin/nodes', { token });
  expect(res.status).toBe(200);
  const byId = new Map<
    string,
    { modules: string[]; endpoints?: { action: string; requests: number }[] }
  >(res.body.nodes.map((n: { nodeId: string }) => [n.nodeId, n]));
  expect(byId.get(`${prefix}-user`)?.modules).toEqual(['user']);
  expect(byId.get(`${prefix}-gw`)?.modules).toEqual([]);
  const signIns = byId.get(`${prefix}-user`)?.endpoints?.find((e) => e.action === 'authenticate');
  expect(signIns?.requests).toBeGreaterThan(0);
  // The call matrix: the gateway's calls to the user module went over NATS.
  const gatewayCalls = (res.body.nodes as { nodeId: string; calls?: Record<string, unknown>[] }[])
    .find((n) => n.nodeId === `${prefix}-gw`)
    ?.calls?.find((c) => c.caller === 'gateway' && c.module === 'user');
  expect(gatewayCalls).toMatchObject({ transport: 'nats' });
  expect(gatewayCalls?.calls as number).toBeGreaterThan(0);
  // The serving side of the same calls, on the user node.
  const served = await client(nodes[0]!.baseUrl).get('/metrics');
  expect(served.text).toMatch(
    /^bunshop_module_handled_total\{module="user",action="authenticate",code="ok"\} [1-9]/m,
  );
  expect(
    (await api.get('/admin/nodes', { token: (await api.newUser('nodes')).token })).status,
  ).toBe(403);
});

test('`bunshop nodes` lists the same nodes on the command line', () => {
  const main = join(import.meta.dir, '..', '..', 'src', 'main.ts');
  const command = process.env.BUNSHOP_BIN ? [process.env.BUNSHOP_BIN] : [process.execPath, main];
  const run = Bun.spawnSync([...command, 'nodes'], {
    env: { ...process.env, SUBJECT_PREFIX: prefix, LOG_LEVEL: 'error' },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  expect(run.exitCode).toBe(0);
  const out = run.stdout.toString();
  expect(out).toContain(`${prefix}-user`);
  expect(out).toMatch(/user\.authenticate\s+\d+ requests/);
  expect(out).toContain(`${prefix}-gw`);
  expect(out).toMatch(/gateway -> user\s+nats\s+[1-9]\d* calls/);
  expect(out).toMatch(/gateway -> inventory\s+nats\s+[1-9]\d* calls\s+[1-9]\d* errors/);
});

test('`bunshop nodes` on a prefix nobody serves says so and exits 0', () => {
  const main = join(import.meta.dir, '..', '..', 'src', 'main.ts');
  const command = process.env.BUNSHOP_BIN ? [process.env.BUNSHOP_BIN] : [process.execPath, main];
  const run = Bun.spawnSync([...command, 'nodes'], {
    env: { ...process.env, SUBJECT_PREFIX: `${prefix}-empty`, LOG_LEVEL: 'error' },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  expect(run.stderr.toString()).toBe('');
  expect(run.exitCode).toBe(0);
  expect(run.stdout.toString()).toContain('no bunshop nodes answered');
});
