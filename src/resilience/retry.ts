import { decorrelatedJitterGenerator, ExponentialBackoff, type IBackoff } from 'cockatiel';
import type { Clock } from '../clock.ts';
import type { RetryOptions } from './policies.ts';

export interface RetryPlan {
  options: RetryOptions;
  /** Epoch ms after which nobody waits for the answer. */
  deadline: number;
  clock: Clock;
  retryable(err: unknown): boolean;
  onRetry?(err: unknown, attempt: number, delayMs: number): void;
}

/**
 * Runs `attempt` again after a retryable failure, with capped exponential backoff and
 * decorrelated jitter (cockatiel's generator), waiting on the injected clock. It gives up
 * with the last error when attempts run out or when the backoff plus `minRemainingMs`
 * would reach the deadline. Only call this for actions the contract declares idempotent:
 * a transient failure does not prove the action did not run.
 */
export async function withRetry<T>(attempt: () => Promise<T>, plan: RetryPlan): Promise<T> {
  const { options, clock } = plan;
  let backoff: IBackoff<unknown> | undefined;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (n >= options.maxAttempts || !plan.retryable(err)) throw err;
      // Made at the first failure: most calls succeed at once, and this is on every remote call.
      backoff = backoff
        ? backoff.next(undefined)
        : new ExponentialBackoff({
            generator: decorrelatedJitterGenerator,
            initialDelay: options.initialDelayMs,
            maxDelay: options.maxDelayMs,
          }).next();
      const delay = Math.round(backoff.duration);
      if (clock.now() + delay + options.minRemainingMs > plan.deadline) throw err;
      plan.onRetry?.(err, n, delay);
      await clock.sleep(delay);
    }
  }
}
