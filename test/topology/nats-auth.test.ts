import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import { createDatabase } from '../support/database.ts';
import { freePort, spawnNode } from '../support/process.ts';
import { jwtSecret } from '../support/target.ts';

/** A NATS server of the test's own that demands a user and password. */
const dir = mkdtempSync(join(tmpdir(), 'bunshop-nats-auth-'));
let server: Subprocess;
let port: number;
let db: Awaited<ReturnType<typeof createDatabase>>;
const main = join(import.meta.dir, '..', '..', 'src', 'main.ts');

beforeAll(async () => {
  port = freePort();
  writeFileSync(
    join(dir, 'nats.conf'),
    'authorization { user: "shop", password: "right-password" }\n',
  );
  server = Bun.spawn(
    [
      'nats-server',
      '-a',
      '127.0.0.1',
      '-p',
      String(port),
      '-js',
      '-sd',
      join(dir, 'js'),
      '-c',
      join(dir, 'nats.conf'),
    ],
    {
      stdout: 'ignore',
      stderr: 'ignore',
    },
  );
  for (let i = 0; i < 100; i++) {
    const up = await Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {} } }).then(
      (s) => {
        s.end();
        return true;
      },
      () => false,
    );
    if (up) break;
    await Bun.sleep(50);
  }
  db = await createDatabase();
}, 60_000);

afterAll(async () => {
  server?.kill('SIGKILL');
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({
  DATABASE_URL: db.url,
  JWT_SECRET: jwtSecret,
  TRANSPORT: 'nats',
  NATS_URL: `nats://127.0.0.1:${port}`,
  NATS_USER: 'shop',
  SUBJECT_PREFIX: 'authtest',
  MODULES: 'user',
});

test('a node with the right credentials joins and is ready', async () => {
  const node = await spawnNode({ ...env(), NATS_PASSWORD: 'right-password' });
  try {
    const ready = await fetch(`${node.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
  } finally {
    node.proc.kill('SIGTERM');
    expect(await node.exited).toBe(0);
  }
  // The password goes to NATS only: never into the node's log lines.
  expect(node.output()).toContain('listening on');
  expect(node.output()).not.toContain('right-password');
}, 60_000);

test('a wrong password fails at start-up with one clear line', () => {
  const run = Bun.spawnSync(
    [process.env.BUNSHOP_BIN || process.execPath, ...(process.env.BUNSHOP_BIN ? [] : [main])],
    {
      env: {
        ...process.env,
        ...env(),
        NATS_PASSWORD: 'wrong-password',
        PORT: '0',
        LOG_LEVEL: 'error',
      },
      stdout: 'pipe',
      stderr: 'pipe',
    },
  );
  expect(run.exitCode).not.toBe(0);
  const stderr = run.stderr.toString();
  expect(stderr).toContain('NATS refused the credentials');
  expect(stderr).not.toContain('wrong-password');
  expect(run.stdout.toString()).not.toContain('wrong-password');
}, 60_000);
