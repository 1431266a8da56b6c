import { afterAll, beforeAll, expect, test } from 'bun:test';
import {
  faultViolations,
  orderStream,
  type Rig,
  sagaLeaseConfigurable,
  startRig,
  summaryLine,
  verify,
} from '../support/faults.ts';

/**
 * Issue 3, fault 1: SIGKILL one of the two order nodes mid-stream and leave it dead. The
 * other order node takes over its sagas once their lease expires; nothing is lost.
 */
const leaseMs = sagaLeaseConfigurable ? 8_000 : 30_000;
let rig: Rig;

beforeAll(async () => {
  rig = await startRig('kord', { SAGA_LEASE_MS: String(leaseMs) });
}, 120_000);

afterAll(() => rig?.stop(), 60_000);

test('SIGKILL of order-1 mid-stream: order-2 finishes its sagas, nothing lost', async () => {
  const stream = orderStream(rig, { durationMs: 15_000 });
  await Bun.sleep(5_000);
  const victim = rig.topology.nodes.get('order-1')!;
  victim.proc.kill('SIGKILL');
  const killedAt = Date.now();
  expect(await victim.exited).not.toBe(0);
  const stats = await stream.done;
  // The dead node "heals" for its sagas when their leases expire and order-2 may claim them.
  const outcome = await verify(rig, stream.acknowledged, killedAt + leaseMs);
  console.log(summaryLine('kill-order-node', 1, outcome), JSON.stringify(stats));
  expect(outcome.report.orders).toBeGreaterThan(50);
  expect(outcome.report.confirmed).toBeGreaterThan(0);
  expect(outcome.report.rejected).toBeGreaterThan(0);
  expect(outcome.settledAfterMs).toBeGreaterThanOrEqual(0);
  expect(faultViolations(outcome)).toBe(0);
}, 120_000);
