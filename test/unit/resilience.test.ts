import { describe, expect, test } from 'bun:test';
import { type Clock, systemClock } from '../../src/clock.ts';
import { AppError, type ErrorCode } from '../../src/errors.ts';
import { createLogger } from '../../src/observability/log.ts';
import { type ResilienceOptions, resilience } from '../../src/resilience/index.ts';
import type { Call } from '../../src/transport/types.ts';
import { rejection } from '../support/rejection.ts';

const log = createLogger('silent');

/** Time moves only when a retry's backoff sleeps. */
function fakeClock(): Clock {
  let t = Date.now();
  return {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
  };
}

function guard(options: Partial<ResilienceOptions> = {}) {
  const changes: string[] = [];
  const mw = resilience({
    isRemote: (module) => module !== 'user',
    log,
    clock: fakeClock(),
    onBreakerChange: (module, state) => changes.push(`${module}:${state}`),
    ...options,
  });
  return { mw, changes };
}

function call(over: Partial<Call> = {}, clock: Clock = systemClock, timeoutMs = 5_000): Call {
  return {
    module: 'payment',
    action: 'charge',
    input: {},
    ctx: { deadline: clock.now() + timeoutMs, caller: { kind: 'anonymous' }, requestId: 'r-1' },
    idempotent: true,
    ...over,
  };
}

const fail = (code: ErrorCode) => new AppError(code, `${code} from the fake`);

/** A fake `next`: the n-th call plays the n-th step (the last one repeats) and counts calls. */
function fake(...steps: Array<Error | string>) {
  const f = {
    calls: 0,
    next: async (): Promise<unknown> => {
      const step = steps[Math.min(f.calls, steps.length - 1)];
      f.calls++;
      if (step instanceof Error) throw step;
      return step;
    },
  };
  return f;
}

/** A `next` that stays in flight until the test releases every call made so far. */
function pending() {
  const waiting: Array<() => void> = [];
  const p = {
    calls: 0,
    release: () => {
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
  const next = () => {
    p.calls++;
    return new Promise<unknown>((resolve) => waiting.push(() => resolve('done')));
  };
  return { p, next };
}

describe('retries', () => {
  test('an idempotent call is retried on transient failures until it succeeds', async () => {
    const { mw } = guard();
    const f = fake(fail('unavailable'), fail('deadline_exceeded'), 'ok');
    expect(await mw(call(), f.next)).toBe('ok');
    expect(f.calls).toBe(3);
  });

  test('a transport error (not an AppError) is retried too', async () => {
    const { mw } = guard();
    const f = fake(new Error('socket closed'), 'ok');
    expect(await mw(call(), f.next)).toBe('ok');
    expect(f.calls).toBe(2);
  });

  test('a non-idempotent call is never retried', async () => {
    const { mw } = guard();
    const f = fake(fail('unavailable'), 'ok');
    expect((await rejection(mw(call({ idempotent: false }), f.next))).code).toBe('unavailable');
    expect(f.calls).toBe(1);
  });

  test('business errors are not retried and pass through unchanged', async () => {
    const { mw } = guard();
    for (const code of [
      'validation',
      'not_found',
      'conflict',
      'unprocessable',
      'forbidden',
    ] as const) {
      const error = fail(code);
      const f = fake(error, 'ok');
      expect(await rejection(mw(call(), f.next))).toBe(error);
      expect(f.calls).toBe(1);
    }
  });

  test('gives up after maxAttempts with the last error', async () => {
    const { mw } = guard();
    const last = fail('deadline_exceeded');
    const f = fake(fail('unavailable'), fail('unavailable'), last);
    expect(await rejection(mw(call(), f.next))).toBe(last);
    expect(f.calls).toBe(3);
  });

  test('no retry when the deadline is too close for another attempt', async () => {
    const clock = fakeClock();
    const { mw } = guard({ clock, retry: { minRemainingMs: 100 } });
    const f = fake(fail('unavailable'), 'ok');
    const err = await rejection(mw(call({}, clock, 50), f.next));
    expect(err.code).toBe('unavailable');
    expect(f.calls).toBe(1);
  });

  test('retries stop before the deadline even with attempts left', async () => {
    const clock = fakeClock();
    const retry = { maxAttempts: 20, initialDelayMs: 200, maxDelayMs: 1_000, minRemainingMs: 100 };
    const { mw } = guard({ clock, retry });
    const c = call({}, clock, 1_000);
    const starts: number[] = [];
    const f = fake(fail('unavailable'));
    const next = () => {
      starts.push(clock.now());
      return f.next();
    };
    expect((await rejection(mw(c, next))).code).toBe('unavailable');
    expect(f.calls).toBeGreaterThan(1);
    expect(f.calls).toBeLessThan(20);
    for (const at of starts) expect(at).toBeLessThanOrEqual(c.ctx.deadline - 100);
  });

  test('a deadline already passed fails without calling next', async () => {
    const { mw } = guard();
    const f = fake('ok');
    const err = await rejection(mw(call({}, systemClock, -1), f.next));
    expect(err.code).toBe('deadline_exceeded');
    expect(f.calls).toBe(0);
  });
});

describe('circuit breaker', () => {
  const opened = async (halfOpenAfterMs = 60_000, clock = fakeClock()) => {
    const g = guard({ clock, breaker: { consecutiveFailures: 5, halfOpenAfterMs } });
    const f = fake(fail('unavailable'));
    for (let i = 0; i < 5; i++) await rejection(g.mw(call({ idempotent: false }), f.next));
    return { ...g, f };
  };

  test('opens after N transient failures, then fails fast without calling next', async () => {
    const clock = fakeClock();
    const { mw, changes, f } = await opened(60_000, clock);
    const before = clock.now();
    expect(f.calls).toBe(5);
    expect(mw.states()).toEqual({ payment: 'open' });
    expect(changes).toEqual(['payment:open']);
    const err = await rejection(mw(call(), f.next));
    expect(err.code).toBe('unavailable');
    expect(err.message).toContain('payment');
    expect(err.details.retryAfter).toBeGreaterThanOrEqual(59);
    expect(f.calls).toBe(5);
    expect(clock.now()).toBe(before);
  });

  test('is per target module', async () => {
    const { mw } = await opened();
    const other = fake('ok');
    expect(await mw(call({ module: 'inventory' }), other.next)).toBe('ok');
    expect(mw.states()).toEqual({ payment: 'open', inventory: 'closed' });
  });

  test('business errors never open it', async () => {
    const { mw } = guard({ breaker: { consecutiveFailures: 2 } });
    const f = fake(fail('validation'), fail('not_found'), fail('conflict'), fail('forbidden'));
    for (let i = 0; i < 12; i++) await rejection(mw(call({ idempotent: false }), f.next));
    expect(f.calls).toBe(12);
    expect(mw.states()).toEqual({ payment: 'closed' });
  });

  test('an answer, even a business error, breaks a run of failures', async () => {
    const { mw } = guard({ breaker: { consecutiveFailures: 3 } });
    const f = fake(fail('unavailable'), fail('unavailable'), fail('conflict'), fail('unavailable'));
    for (let i = 0; i < 5; i++) await rejection(mw(call({ idempotent: false }), f.next));
    expect(mw.states()).toEqual({ payment: 'closed' });
  });

  test('half-opens after its timeout, lets one probe through, and closes when it succeeds', async () => {
    const { mw, changes } = await opened(50);
    await Bun.sleep(120);
    const { p, next } = pending();
    const probe = mw(call(), next);
    expect(mw.states()).toEqual({ payment: 'half-open' });
    const second = await rejection(mw(call(), next));
    expect(second.code).toBe('unavailable');
    expect(p.calls).toBe(1);
    p.release();
    expect(await probe).toBe('done');
    expect(changes).toEqual(['payment:open', 'payment:half-open', 'payment:closed']);
    const after = fake('ok');
    expect(await mw(call(), after.next)).toBe('ok');
  });

  test('a failed probe opens it again', async () => {
    const { mw, changes } = await opened(50);
    await Bun.sleep(120);
    const f = fake(fail('unavailable'));
    await rejection(mw(call({ idempotent: false }), f.next));
    expect(changes).toEqual(['payment:open', 'payment:half-open', 'payment:open']);
    expect((await rejection(mw(call(), f.next))).code).toBe('unavailable');
    expect(f.calls).toBe(1);
  });
});

describe('bulkhead', () => {
  test('refuses calls past its limit at once, without retrying or tripping the breaker', async () => {
    const clock = fakeClock();
    const before = clock.now();
    const { mw } = guard({
      clock,
      bulkhead: { limit: 2, queue: 0 },
      breaker: { consecutiveFailures: 2 },
    });
    const { p, next } = pending();
    const inFlight = [mw(call(), next), mw(call(), next)];
    for (let i = 0; i < 3; i++) {
      const err = await rejection(mw(call(), next));
      expect(err.code).toBe('unavailable');
      expect(err.details.retryAfter).toBe(1);
    }
    expect(p.calls).toBe(2);
    expect(clock.now()).toBe(before);
    expect(mw.states()).toEqual({ payment: 'closed' });
    p.release();
    await Promise.all(inFlight);
    const f = fake('ok');
    expect(await mw(call(), f.next)).toBe('ok');
  });

  test('a queued call gives up at its deadline and never runs', async () => {
    const { mw } = guard({ clock: systemClock, bulkhead: { limit: 1, queue: 1 } });
    const { p, next } = pending();
    const first = mw(call(), next);
    const err = await rejection(mw(call({}, systemClock, 30), next));
    expect(err.code).toBe('deadline_exceeded');
    p.release();
    await first;
    await Bun.sleep(5);
    expect(p.calls).toBe(1);
  });
});

describe('local calls', () => {
  test('pass straight through: no retry, no breaker, no deadline check', async () => {
    const { mw } = guard({ breaker: { consecutiveFailures: 1 } });
    const error = fail('unavailable');
    const f = fake(error);
    for (let i = 0; i < 3; i++) {
      expect(await rejection(mw(call({ module: 'user' }, systemClock, -1), f.next))).toBe(error);
    }
    expect(f.calls).toBe(3);
    expect(mw.states()).toEqual({});
  });
});
