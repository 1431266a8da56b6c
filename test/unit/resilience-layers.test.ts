import { expect, test } from 'bun:test';
import { AppError, type SerializedError } from '../../src/errors.ts';
import { createLogger } from '../../src/observability/log.ts';
import { resilience } from '../../src/resilience/index.ts';
import type { Call } from '../../src/transport/types.ts';

/** How the guard treats layers: errors a module answered, and callers that retry themselves. */
const log = createLogger('silent');
const guard = () =>
  resilience({
    isRemote: () => true,
    log,
    breaker: { consecutiveFailures: 3 },
    retry: { initialDelayMs: 1, maxDelayMs: 1 },
  });

const call = (over: Partial<Call['ctx']> = {}): Call => ({
  module: 'order',
  action: 'getOrder',
  input: {},
  ctx: { deadline: Date.now() + 5_000, caller: { kind: 'anonymous' }, requestId: 'r', ...over },
  idempotent: true,
});

const answered503 = () =>
  AppError.fromJSON({
    code: 'unavailable',
    message: 'inventory is down',
  } satisfies SerializedError);

test('a 503 the module answered (something behind it is down) neither opens its breaker nor is retried', async () => {
  const mw = guard();
  let calls = 0;
  for (let i = 0; i < 6; i++) {
    await expect(
      mw(call(), async () => {
        calls++;
        throw answered503();
      }),
    ).rejects.toMatchObject({ code: 'unavailable', answered: true });
  }
  expect(calls).toBe(6);
  expect(mw.states().order).toBe('closed');
});

test('a failure to reach the module is retried and counts towards opening the breaker', async () => {
  const mw = guard();
  let calls = 0;
  const unreachable = async () => {
    calls++;
    throw new AppError('unavailable', 'no responders');
  };
  await expect(mw(call(), unreachable)).rejects.toMatchObject({ code: 'unavailable' });
  expect(calls).toBeGreaterThan(1);
  expect(mw.states().order).toBe('open');
});

test('a caller that retries itself (a saga step) gets one attempt', async () => {
  const mw = guard();
  let calls = 0;
  await expect(
    mw(call({ noRetry: true }), async () => {
      calls++;
      throw new AppError('unavailable', 'no responders');
    }),
  ).rejects.toMatchObject({ code: 'unavailable' });
  expect(calls).toBe(1);
});
