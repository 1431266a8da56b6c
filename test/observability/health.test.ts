import { afterEach, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client, isProblem, type Reply } from '../support/client.ts';
import { adminUrl, createDatabase } from '../support/database.ts';
import { deleteEventStream, natsReachable, natsUrl } from '../support/nats.ts';
import { freePort, type NodeProcess, spawnNode } from '../support/process.ts';
import { jwtSecret } from '../support/target.ts';
import { tcpProxy } from '../support/tcp-proxy.ts';

/** Readiness, graceful shutdown and the metrics port, seen from outside the process. */
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freshDatabase() {
  const db = await createDatabase();
  cleanups.push(() => db.drop());
  return db;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bunshop-health-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function start(env: Record<string, string>): Promise<NodeProcess> {
  const node = await spawnNode({ JWT_SECRET: jwtSecret, ...env }, 60_000, tempDir());
  cleanups.push(async () => {
    node.proc.kill('SIGKILL');
    await node.exited;
  });
  return node;
}

/** Polls until `ok` holds or time runs out, and returns the last reply either way. */
async function eventually(
  read: () => Promise<Reply>,
  ok: (r: Reply) => boolean,
  ms = 15_000,
): Promise<Reply> {
  const until = Date.now() + ms;
  for (;;) {
    const reply = await read();
    if (ok(reply) || Date.now() > until) return reply;
    await Bun.sleep(100);
  }
}

const failing = (reply: Reply) =>
  Object.entries(reply.body?.checks ?? {})
    .filter(([, c]) => !(c as { ok: boolean }).ok)
    .map(([name]) => name)
    .sort();

test('readiness is 503 while Postgres is unreachable and 200 again once it is back', async () => {
  const db = await freshDatabase();
  const target = new URL(adminUrl);
  const proxy = tcpProxy({ hostname: target.hostname, port: Number(target.port || 5432) });
  cleanups.push(() => proxy.close());
  const proxied = new URL(db.url);
  proxied.port = String(proxy.port);
  const node = await start({ DATABASE_URL: proxied.toString(), REQUEST_TIMEOUT_MS: '1000' });
  const api = client(node.baseUrl);
  const ready = await api.get('/health/ready');
  expect(ready.status).toBe(200);
  expect(ready.body.status).toBe('ready');
  expect(Object.keys(ready.body.checks).sort()).toEqual(['database', 'migrations', 'shutdown']);

  proxy.close();
  const down = await eventually(
    () => api.get('/health/ready'),
    (r) => r.status === 503,
  );
  expect(isProblem(down, 503)).toBe(true);
  expect(down.body.checks.database.ok).toBe(false);
  expect(down.body.checks.shutdown.ok).toBe(true);
  expect((await api.get('/health/live')).status).toBe(200);
  // The reason goes to the node log; the public body names no host, driver or query.
  for (const leak of ['postgres', '127.0.0.1', 'econnrefused', 'select'])
    expect(down.text.toLowerCase()).not.toContain(leak);
  // API calls meanwhile: a retryable 503 problem by the deadline, never a 500 or a hang.
  for (let i = 0; i < 5; i++) {
    const read = await api.get('/inventory/items/NOPE');
    expect(isProblem(read, 503)).toBe(true);
    expect(read.headers.get('retry-after')).toMatch(/^\d+$/);
    for (const leak of ['postgres', '127.0.0.1', 'econnrefused', 'select'])
      expect(read.text.toLowerCase()).not.toContain(leak);
  }
  expect(node.proc.exitCode).toBeNull();

  proxy.reopen();
  // postgres.js reconnects lazily, after a back-off that grows with failures up to 20 s.
  const back = await eventually(
    () => api.get('/health/ready'),
    (r) => r.status === 200,
    30_000,
  );
  expect(back.status).toBe(200);
  expect(back.body.checks.database.ok).toBe(true);
}, 90_000);

test('on SIGTERM readiness turns 503 at once while the node still serves, then it exits cleanly', async () => {
  const db = await freshDatabase();
  const node = await start({ DATABASE_URL: db.url, SHUTDOWN_DELAY_MS: '3000' });
  const api = client(node.baseUrl);
  expect((await api.get('/health/ready')).status).toBe(200);

  node.proc.kill('SIGTERM');
  const draining = await eventually(
    () => api.get('/health/ready'),
    (r) => r.status === 503,
  );
  expect(isProblem(draining, 503)).toBe(true);
  expect(draining.body.checks.shutdown).toEqual({ ok: false, detail: 'shutting down' });
  expect(failing(draining)).toEqual(['shutdown']);
  // Load balancers are still sending traffic during the delay: it must be answered.
  expect((await api.get('/health/live')).status).toBe(200);
  expect(isProblem(await api.get('/inventory/items/NOPE'), 404)).toBe(true);

  expect(await node.exited).toBe(0);
  const stopped = node
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string });
  expect(stopped.some((l) => l.msg === 'stopped')).toBe(true);
}, 90_000);

const natsUp = await natsReachable();
if (!natsUp && !process.env.CI) {
  console.warn(
    `\n!!! SKIPPED: gateway readiness over NATS needs a NATS server at ${natsUrl} (JetStream on) !!!\n`,
  );
}

test.skipIf(!natsUp && !process.env.CI)(
  'a NATS gateway is ready only once every module it does not host answers',
  async () => {
    if (!natsUp) throw new Error(`CI=true but no NATS server answers at ${natsUrl}`);
    const db = await freshDatabase();
    const prefix = `h${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    cleanups.push(() => deleteEventStream(prefix));
    const common = { DATABASE_URL: db.url, TRANSPORT: 'nats', SUBJECT_PREFIX: prefix };
    const gateway = await start({
      ...common,
      MODULES: 'none',
      GATEWAY: 'true',
      NODE_ID: `${prefix}-gateway`,
    });
    const api = client(gateway.baseUrl);
    const alone = await api.get('/health/ready');
    expect(isProblem(alone, 503)).toBe(true);
    expect(failing(alone)).toEqual([
      'module:inventory',
      'module:order',
      'module:payment',
      'module:user',
    ]);
    expect(alone.body.checks.nats.ok).toBe(true);

    await start({ ...common, MODULES: 'all', GATEWAY: 'false', NODE_ID: `${prefix}-modules` });
    const joined = await eventually(
      () => api.get('/health/ready'),
      (r) => r.status === 200,
    );
    expect(failing(joined)).toEqual([]);
    expect(joined.status).toBe(200);
  },
  120_000,
);

test('METRICS_PORT serves the Prometheus text and a 404 problem for anything else', async () => {
  const db = await freshDatabase();
  const metricsPort = freePort();
  await start({ DATABASE_URL: db.url, METRICS_PORT: String(metricsPort) });
  const metrics = client(`http://127.0.0.1:${metricsPort}`);

  const scrape = await metrics.get('/metrics');
  expect(scrape.status).toBe(200);
  expect(scrape.headers.get('content-type')).toStartWith('text/plain');
  expect(scrape.text).toContain('bunshop_node_info');
  expect((await metrics.get('/health/live')).status).toBe(200);
  expect(isProblem(await metrics.get('/anything'), 404)).toBe(true);
}, 90_000);
