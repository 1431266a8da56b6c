import {
  BrokenCircuitError,
  type BulkheadPolicy,
  BulkheadRejectedError,
  CircuitState,
  TaskCancelledError,
} from 'cockatiel';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import { type ModulePolicies, secondsUntilHalfOpen } from './policies.ts';

/** Refusals made here, before the target was reached: retrying them would not help. */
const refusals = new WeakSet<AppError>();

function refuse(err: AppError): AppError {
  refusals.add(err);
  return err;
}

export const isRefusal = (err: unknown): boolean => err instanceof AppError && refusals.has(err);

/**
 * Failures to reach the module (timeouts, no responders, transport errors) count; answers never
 * do, not even a 503 the module answered because something behind it is down: otherwise one
 * failing module would open the breakers of every module that calls it, layer by layer.
 */
export const countsAsFailure = (err: unknown): boolean =>
  !(err instanceof AppError) || (err.transient && !err.answered);

const deadlinePassed = () =>
  refuse(new AppError('deadline_exceeded', 'The request deadline passed.'));

const unavailable = (module: string, retryAfter: number) =>
  refuse(
    new AppError('unavailable', `The ${module} module is unavailable; try again shortly.`, {
      retryAfter,
    }),
  );

type Settled = { value: unknown } | { error: unknown };

/**
 * One attempt at a remote call: bulkhead, then breaker, then `next`. Business errors pass the
 * breaker as settled values, so it counts them as the module answering (a success).
 */
export async function guardedAttempt(
  module: string,
  deadline: number,
  next: () => Promise<unknown>,
  p: ModulePolicies,
  halfOpenAfterMs: number,
  clock: Clock,
): Promise<unknown> {
  // cockatiel makes other callers wait for the half-open probe; fail them fast instead
  if (p.breaker.state === CircuitState.HalfOpen) throw unavailable(module, 1);
  let settled: Settled;
  try {
    settled = await untilDeadline(p.bulkhead, deadline, clock, () =>
      p.breaker.execute(async (): Promise<Settled> => {
        try {
          return { value: await next() };
        } catch (error) {
          if (countsAsFailure(error)) throw error;
          return { error };
        }
      }),
    );
  } catch (err) {
    if (err instanceof BrokenCircuitError)
      throw unavailable(module, secondsUntilHalfOpen(p, halfOpenAfterMs));
    if (err instanceof BulkheadRejectedError) throw unavailable(module, 1);
    if (err instanceof TaskCancelledError) throw deadlinePassed();
    throw err;
  }
  if ('error' in settled) throw settled.error;
  return settled.value;
}

/** Runs `fn` in the bulkhead; a call left waiting in its queue gives up at its deadline. */
function untilDeadline<T>(
  bulkhead: BulkheadPolicy,
  deadline: number,
  clock: Clock,
  fn: () => Promise<T>,
): Promise<T> {
  // runs at once or is refused at once: no timer needed
  if (bulkhead.executionSlots > 0 || bulkhead.queueSlots === 0) return bulkhead.execute(fn);
  const stopTimer = new AbortController();
  const giveUp = new AbortController();
  let started = false;
  const run = bulkhead.execute(() => {
    started = true;
    stopTimer.abort();
    return fn();
  }, giveUp.signal);
  const expiry = clock.sleep(Math.max(0, deadline - clock.now()), stopTimer.signal).then(() => {
    // once running, the transport bounds the call by the same deadline
    if (started) return run;
    giveUp.abort();
    throw deadlinePassed();
  });
  return Promise.race([run, expiry]).finally(() => stopTimer.abort());
}
