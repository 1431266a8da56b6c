import { afterAll, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config.ts';
import { allModules } from '../../src/main.ts';
import { startNode } from '../../src/node.ts';
import { client } from '../support/client.ts';
import { createDatabase, testDb } from '../support/database.ts';
import { bunshopCommand, freePort, spawnNode } from '../support/process.ts';
import { admin, jwtSecret } from '../support/target.ts';

const cwd = mkdtempSync(join(tmpdir(), 'bunshop-empty-'));
const pg = testDb === 'postgres' ? await createDatabase() : undefined;
afterAll(async () => {
  rmSync(cwd, { recursive: true, force: true });
  await pg?.drop();
});

const env = {
  JWT_SECRET: jwtSecret,
  ADMIN_EMAIL: admin.email,
  ADMIN_PASSWORD: admin.password,
  ...(pg ? { DATABASE_URL: pg.url } : {}),
};

test('starts from an empty directory, keeps its data across a restart, and stops cleanly on SIGTERM', async () => {
  let node = await spawnNode(env, 60_000, cwd);
  let api = client(node.baseUrl);
  expect((await api.get('/health/ready')).status).toBe(200);
  // Without DATA_DIR or DATABASE_URL the data lives in ./data of the working directory.
  if (!pg) expect(existsSync(join(cwd, 'data'))).toBe(true);
  const user = await api.newUser('lifecycle');

  node.proc.kill('SIGTERM');
  expect(await node.exited).toBe(0);
  expect(node.output()).toContain('"msg":"stopped"');

  node = await spawnNode(env, 60_000, cwd);
  api = client(node.baseUrl);
  const token = await api.signIn(user.email, user.password);
  expect((await api.get('/users/me', { token })).body.id).toBe(user.id);

  const adminToken = await api.adminToken();
  await api.stock(adminToken, 'LIFECYCLE-1', 100, 5);
  await api.deposit(token, 1000);
  node.proc.kill('SIGTERM');
  expect(await node.exited).toBe(0);

  // An order in flight when SIGTERM arrives is finished and answered before the process exits:
  // the test hook holds placeOrder for 1.5 s, so the signal surely lands while it waits.
  node = await spawnNode({ ...env, BUNSHOP_TEST_DELAY: 'order.placeOrder:1500' }, 60_000, cwd);
  api = client(node.baseUrl);
  const inFlight = api.post('/orders', { items: [{ sku: 'LIFECYCLE-1', qty: 1 }] }, { token });
  await Bun.sleep(500);
  node.proc.kill('SIGTERM');
  const answered = await inFlight;
  expect(answered.status).toBe(201);
  expect(answered.body.status).toBe('CONFIRMED');
  expect(await node.exited).toBe(0);
}, 120_000);

test('a node that fails to start releases the ports it opened', async () => {
  const [port, metricsPort] = [freePort(), freePort()];
  const config = parseConfig(
    [],
    {
      ...env,
      ...(pg ? {} : { DATA_DIR: join(cwd, 'failed-start') }),
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      TRANSPORT: 'nats',
      NATS_URL: 'nats://127.0.0.1:1', // Nothing listens there: start-up fails after both ports opened.
      LOG_LEVEL: 'error',
    },
    allModules.map((m) => m.contract.name),
  );
  await expect(startNode(config, allModules)).rejects.toThrow(/could not connect to NATS/);
  // Bound again at once: the early listener and the metrics server were stopped.
  for (const p of [port, metricsPort]) {
    Bun.serve({ hostname: '127.0.0.1', port: p, fetch: () => new Response('') }).stop(true);
  }
}, 60_000);

/** Runs bunshop to its exit and returns the exit code and what it wrote to stderr. */
async function failedStart(databaseUrl: string): Promise<{ code: number; stderr: string }> {
  const proc = Bun.spawn(bunshopCommand(), {
    cwd,
    env: { ...process.env, ...env, DATABASE_URL: databaseUrl, PORT: '0', LOG_LEVEL: 'error' },
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
  });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  return { code, stderr };
}

test('a database it cannot reach or use stops the start with one line that names it, password hidden', async () => {
  const refused = await failedStart(`postgres://root:hunter2@127.0.0.1:${freePort()}/shop`);
  expect(refused.code).toBe(1);
  expect(refused.stderr.trim()).toMatch(
    /^bunshop: failed to start: cannot read migrations from postgres postgres:\/\/root:\*\*\*@127\.0\.0\.1:\d+\/shop: .*ECONNREFUSED/,
  );
  expect(refused.stderr).not.toContain('hunter2');
  if (!pg) return; // The unknown database needs a server to say so.
  const unknown = await failedStart(pg.url.replace(/\/[^/]*$/, '/bunshop_no_such_database'));
  expect(unknown.code).toBe(1);
  expect(unknown.stderr.trim()).toMatch(/database "bunshop_no_such_database" does not exist$/);
  expect(unknown.stderr).not.toMatch(/select|\n\s+at /i);
}, 30_000);

/** IPv6 loopback, which a container may run without. */
const ipv6 = existsSync('/proc/net/if_inet6')
  ? readFileSync('/proc/net/if_inet6', 'utf8').includes('00000000000000000000000000000001')
  : false;

test.skipIf(!ipv6)(
  'HOST=:: serves IPv4 and IPv6 alike, and the start-up line names a URL that works',
  async () => {
    const node = await spawnNode(
      { ...env, ...(pg ? {} : { DATA_DIR: join(cwd, 'dual-stack') }), HOST: '::' },
      60_000,
      cwd,
    );
    try {
      const port = /listening on http:\/\/localhost:(\d+)/.exec(node.output())?.[1];
      expect(port).toBeDefined();
      for (const host of ['127.0.0.1', '[::1]', 'localhost']) {
        expect((await fetch(`http://${host}:${port}/health/live`)).status).toBe(200);
      }
    } finally {
      node.proc.kill('SIGTERM');
      await node.exited;
    }
  },
  60_000,
);
