import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import {
  orderStream,
  type Rig,
  settleAndCheck,
  startRig,
  watchBreakers,
} from '../support/faults.ts';
import { freePort } from '../support/process.ts';

/**
 * Issue 3, fault 4: kill -9 the NATS server mid-stream and start it again on the same port
 * and store directory. The shared NATS serves other suites, so this scenario runs its own
 * nats-server with JetStream. Requests in flight fail, events wait in the outboxes or in
 * the stream, and every node reconnects; nothing acknowledged is lost.
 */
const natsServer =
  process.env.NATS_SERVER_BIN ?? Bun.which('nats-server') ?? '/usr/sbin/nats-server';
const storeDir = mkdtempSync(join(tmpdir(), 'bunshop-nats-'));
let port = 0;
let nats: Subprocess | undefined;
let rig: Rig | undefined;

/** Starts nats-server and resolves once it accepts connections. */
async function startNats(): Promise<Subprocess> {
  const proc = Bun.spawn(
    [natsServer, '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir],
    { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' },
  );
  const until = Date.now() + 15_000;
  for (;;) {
    const up = await Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: { data() {} },
    }).then(
      (s) => {
        s.end();
        return true;
      },
      () => false,
    );
    if (up) return proc;
    if (proc.exitCode !== null || Date.now() > until) {
      proc.kill('SIGKILL');
      throw new Error(`nats-server did not start on port ${port} (exit ${proc.exitCode})`);
    }
    await Bun.sleep(50);
  }
}

beforeAll(async () => {
  port = freePort();
  nats = await startNats();
  rig = await startRig('rnats', { NATS_URL: `nats://127.0.0.1:${port}` });
}, 120_000);

afterAll(async () => {
  try {
    await rig?.stop();
  } finally {
    nats?.kill('SIGKILL');
    await nats?.exited;
    rmSync(storeDir, { recursive: true, force: true });
  }
}, 60_000);

test('kill -9 of nats-server and a restart: every node reconnects, nothing lost', async () => {
  const r = rig!;
  const stream = orderStream(r, { durationMs: 30_000, workers: 6 });
  await Bun.sleep(5_000);
  const breakers = watchBreakers(r);
  nats!.kill('SIGKILL');
  await nats!.exited;
  // Past two request deadlines, so the callers' breakers see enough timeouts to open.
  await Bun.sleep(12_000);
  nats = await startNats();
  const healedAt = Date.now();
  await Bun.sleep(1_000);
  const { seenOpen, log } = await settleAndCheck(
    r,
    { name: 'restart-nats', kills: 1, healedAt },
    stream,
    breakers,
  );
  for (const node of r.topology.nodes.values()) expect(node.proc.exitCode).toBeNull();
  // Every remote call fails while NATS is gone: the gateway's breakers open, then close.
  expect(seenOpen.size + log.size).toBeGreaterThan(0);
  for (const [, s] of log) expect(s.closedAfter).toBe(true);
}, 150_000);
