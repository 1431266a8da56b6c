import { afterAll, beforeAll, expect, test } from 'bun:test';
import { orderStream, type Rig, settleAndCheck, startRig } from '../support/faults.ts';

/**
 * Issue 3, fault 1: one of the two order nodes dies by SIGKILL mid-stream and stays dead.
 * The other order node takes over its sagas once their lease expires; nothing is lost.
 *
 * To be sure the dead node leaves sagas behind, order-1 runs with the test-only crash hook:
 * it SIGKILLs itself right after persisting its sixth charge, i.e. mid-saga past the pivot.
 */
// Short, so the takeover comes soon; longer than a step's 5 s timeout.
const leaseMs = 8_000;
let rig: Rig;

beforeAll(async () => {
  rig = await startRig('kord', { SAGA_LEASE_MS: String(leaseMs) });
  const plain = rig.topology.nodes.get('order-1')!;
  plain.proc.kill('SIGTERM');
  await plain.exited;
  await rig.respawn('order-1', { BUNSHOP_TEST_CRASH_AFTER: 'charge:6' });
}, 120_000);

afterAll(() => rig?.stop(), 60_000);

test('SIGKILL of order-1 mid-stream: order-2 finishes its sagas, nothing lost', async () => {
  const victim = rig.topology.nodes.get('order-1')!;
  const owner = `${rig.topology.prefix}-order-1`;
  const stream = orderStream(rig, { durationMs: 15_000, workers: 5 });
  // The hook fires after order-1's sixth charge; should it not, kill it from outside.
  const crashed = await Promise.race([victim.exited, Bun.sleep(10_000).then(() => undefined)]);
  if (crashed === undefined) victim.proc.kill('SIGKILL');
  const killedAt = Date.now();
  expect(await victim.exited).not.toBe(0);
  const [orphans] = await rig.sql`select count(*)::int as n from "order".sagas
    where lease_owner = ${owner} and phase <> 'done'`;
  // For its sagas the dead node "heals" when their leases expire and order-2 may claim them.
  await settleAndCheck(
    rig,
    {
      name: 'kill-order-node',
      kills: 1,
      healedAt: killedAt + leaseMs,
      extra: { orphans: orphans!.n, leaseMs },
    },
    stream,
  );
  expect(orphans!.n).toBeGreaterThan(0);
}, 150_000);
