import { afterAll, beforeAll, expect, test } from 'bun:test';
import {
  orderStream,
  type Rig,
  settleAndCheck,
  startRig,
  watchBreakers,
} from '../support/faults.ts';

/**
 * Issue 3, fault 2: SIGKILL the payment node mid-stream, then start a new one with the same
 * environment and NODE_ID. Charges and refunds in flight have unknown outcomes and are retried
 * with the order id as key; user.created events published meanwhile wait in JetStream.
 */
let rig: Rig;

beforeAll(async () => {
  rig = await startRig('kpay');
}, 120_000);

afterAll(() => rig?.stop(), 60_000);

test('SIGKILL of the payment node and a restart: no double charge, no lost event', async () => {
  const stream = orderStream(rig, { durationMs: 20_000 });
  await Bun.sleep(5_000);
  const breakers = watchBreakers(rig);
  const victim = rig.topology.nodes.get('payment')!;
  victim.proc.kill('SIGKILL');
  expect(await victim.exited).not.toBe(0);
  await Bun.sleep(4_000);
  await rig.respawn('payment');
  const healedAt = Date.now();
  const { seenOpen, log } = await settleAndCheck(
    rig,
    { name: 'kill-payment', kills: 1, healedAt },
    stream,
    breakers,
  );
  // The order nodes' breakers for payment open while it is gone, and close once it is back.
  expect(seenOpen.has('payment') || log.has('payment')).toBe(true);
  expect(log.get('payment')?.closedAfter).toBe(true);
}, 150_000);
