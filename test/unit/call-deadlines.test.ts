import { describe, expect, test } from 'bun:test';
import * as v from 'valibot';
import { systemClock } from '../../src/clock.ts';
import { action, defineContract } from '../../src/contract.ts';
import { AppError } from '../../src/errors.ts';
import { createLogger } from '../../src/observability/log.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { callRouter } from '../../src/transport/call-router.ts';
import { Dispatcher } from '../../src/transport/dispatcher.ts';
import { LocalTransport } from '../../src/transport/router.ts';
import { rejection } from '../support/rejection.ts';

/** A module whose one action waits as long as it is told, then answers as it is told. */
const slowContract = defineContract('slow', {
  wait: action({
    input: v.object({ ms: v.number(), answer: v.picklist(['valid', 'invalid', 'throw']) }),
    output: v.object({ waited: v.number() }),
    idempotent: false,
    summary: 'Wait, then answer.',
  }),
});

/** The slow module called through the router every node uses, its log lines kept. */
function slowClient() {
  const lines: string[] = [];
  const log = createLogger('debug', {}, (line) => void lines.push(line));
  const metrics = createMetrics();
  const dispatcher = new Dispatcher(log, metrics, systemClock);
  dispatcher.host(slowContract, {
    wait: async ({ ms, answer }) => {
      await Bun.sleep(ms);
      if (answer === 'throw') throw new Error('boom: a stack the caller must not see');
      return (answer === 'valid' ? { waited: ms } : { waited: 'long' }) as { waited: number };
    },
  });
  const router = callRouter({
    dispatcher,
    transport: new LocalTransport(dispatcher),
    metrics,
    log,
    clock: systemClock,
  });
  const ctx = (timeoutMs: number) => ({
    deadline: Date.now() + timeoutMs,
    caller: { kind: 'anonymous' as const },
    requestId: 'deadline-test',
  });
  return { slow: router.client(slowContract), ctx, lines };
}

describe('a direct call and its deadline', () => {
  test('an answer in time is validated and returned', async () => {
    const { slow, ctx } = slowClient();
    expect(await slow.wait({ ms: 5, answer: 'valid' }, ctx(1_000))).toEqual({ waited: 5 });
    const err = await rejection(slow.wait({ ms: 5, answer: 'invalid' }, ctx(1_000)));
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe('internal');
  });

  test('a failure in time is sanitised and logged once', async () => {
    const { slow, ctx, lines } = slowClient();
    const err = await rejection(slow.wait({ ms: 5, answer: 'throw' }, ctx(1_000)));
    expect(err.code).toBe('internal');
    expect(err.message).not.toContain('boom');
    expect(lines.filter((l) => l.includes('action failed'))).toHaveLength(1);
  });

  test('the caller is answered at the deadline; what the handler does later is nobody’s', async () => {
    const { slow, ctx, lines } = slowClient();
    for (const answer of ['valid', 'invalid', 'throw'] as const) {
      const started = Date.now();
      const err = await rejection(slow.wait({ ms: 600, answer }, ctx(100)));
      expect(err.code).toBe('deadline_exceeded');
      // Answered at the deadline (20 ms slots), not when the handler ends at 600 ms.
      expect(Date.now() - started).toBeLessThan(500);
    }
    await Bun.sleep(700);
    expect(lines.filter((l) => /action failed|invalid output/.test(l))).toEqual([]);
  });
});
