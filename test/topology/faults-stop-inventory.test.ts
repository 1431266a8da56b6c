import { afterAll, beforeAll, expect, test } from 'bun:test';
import {
  orderStream,
  type Rig,
  settleAndCheck,
  startRig,
  watchBreakers,
} from '../support/faults.ts';

/**
 * Issue 3, fault 3: SIGSTOP the inventory node for longer than the request deadline
 * (REQUEST_TIMEOUT_MS, 5 s by default), then SIGCONT. Its connection stays open, so calls
 * time out rather than fail fast; when it wakes, it must not act on requests whose deadline
 * passed, and retried reservations and releases keyed by order id have no second effect.
 */
// Long enough that each of the six workers sees two or more timeouts: with no answer at
// all, some order node then counts the five transient failures in a row that open its breaker.
const pauseMs = 12_000;
let rig: Rig;

beforeAll(async () => {
  rig = await startRig('sinv');
}, 120_000);

afterAll(() => rig?.stop(), 60_000);

test('SIGSTOP of the inventory node past the deadline, then SIGCONT: nothing oversold', async () => {
  const stream = orderStream(rig, { durationMs: 27_000, workers: 6 });
  await Bun.sleep(5_000);
  const breakers = watchBreakers(rig);
  const victim = rig.topology.nodes.get('inventory')!;
  victim.proc.kill('SIGSTOP');
  await Bun.sleep(pauseMs);
  victim.proc.kill('SIGCONT');
  const healedAt = Date.now();
  await Bun.sleep(1_000);
  const { seenOpen, log } = await settleAndCheck(
    rig,
    { name: 'stop-inventory', kills: 0, healedAt },
    stream,
    breakers,
  );
  expect(victim.proc.exitCode).toBeNull();
  // The order nodes' breakers for inventory open, or, since their calls and the gateway's
  // share one deadline, the gateway's breaker for order opens first and sheds the load.
  const opened = ['inventory', 'order'].filter((m) => seenOpen.has(m) || log.has(m));
  expect(opened.length).toBeGreaterThan(0);
  for (const m of opened) expect(log.get(m)?.closedAfter).toBe(true);
}, 150_000);
