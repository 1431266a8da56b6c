import { type Clock, systemClock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../observability/log.ts';
import type { Call, CallMiddleware, NextCall } from '../transport/types.ts';
import { countsAsFailure, guardedAttempt, isRefusal } from './guard.ts';
import {
  type BreakerOptions,
  type BreakerState,
  type BulkheadOptions,
  createPolicies,
  defaultBreaker,
  defaultBulkhead,
  defaultRetry,
  type ModulePolicies,
  type RetryOptions,
  toBreakerState,
} from './policies.ts';
import { withRetry } from './retry.ts';

export interface ResilienceOptions {
  /** True for modules this node does not host; only those calls are guarded. */
  isRemote(module: string): boolean;
  log: Logger;
  /** Told of every breaker state change, e.g. to set a gauge. */
  onBreakerChange?(module: string, state: BreakerState): void;
  /** Deadline checks and retry backoff read this clock; cockatiel's breaker reads Date.now(). */
  clock?: Clock;
  retry?: Partial<RetryOptions>;
  breaker?: Partial<BreakerOptions>;
  bulkhead?: Partial<BulkheadOptions>;
}

/** The middleware, plus the breaker state of every module it has called. */
export type ResilienceMiddleware = CallMiddleware & {
  states(): Record<string, BreakerState>;
};

/**
 * Guards calls to remote modules, each target module with its own policies: a bulkhead on
 * calls in flight, a circuit breaker counting only transient failures, and retries for
 * idempotent actions on transient failures, bounded by the call's deadline. The one retry
 * layer (RELIABILITY.md, promise 5): nothing below it may retry again.
 */
export function resilience(options: ResilienceOptions): ResilienceMiddleware {
  const clock = options.clock ?? systemClock;
  const retry = { ...defaultRetry, ...options.retry };
  const breaker = { ...defaultBreaker, ...options.breaker };
  const bulkhead = { ...defaultBulkhead, ...options.bulkhead };
  const byModule = new Map<string, ModulePolicies>();

  const changed = (module: string, state: BreakerState) => {
    const fields = { module, state };
    if (state === 'open') options.log.warn(`circuit breaker for ${module} opened`, fields);
    else options.log.info(`circuit breaker for ${module} is ${state}`, fields);
    options.onBreakerChange?.(module, state);
  };

  const policiesFor = (module: string): ModulePolicies => {
    let p = byModule.get(module);
    if (!p) {
      p = createPolicies(breaker, bulkhead, (state) => changed(module, state));
      byModule.set(module, p);
    }
    return p;
  };

  const guarded = async (call: Call, next: NextCall): Promise<unknown> => {
    const { deadline } = call.ctx;
    if (clock.now() >= deadline)
      throw new AppError('deadline_exceeded', 'The request deadline passed.');
    const p = policiesFor(call.module);
    const attempt = () =>
      guardedAttempt(call.module, deadline, () => next(call), p, breaker.halfOpenAfterMs, clock);
    if (!call.idempotent || call.ctx.noRetry) return attempt();
    return withRetry(attempt, {
      options: retry,
      deadline,
      clock,
      retryable: (err) => countsAsFailure(err) && !isRefusal(err),
      onRetry: (err, n, delayMs) =>
        options.log.debug('retrying a module call', {
          module: call.module,
          action: call.action,
          attempt: n,
          delayMs,
          code: err instanceof AppError ? err.code : 'transport',
        }),
    });
  };

  const middleware: CallMiddleware = function resilience(call, next) {
    return options.isRemote(call.module) ? guarded(call, next) : next(call);
  };
  const states = () =>
    Object.fromEntries([...byModule].map(([m, p]) => [m, toBreakerState(p.breaker.state)]));
  return Object.assign(middleware, { states });
}
