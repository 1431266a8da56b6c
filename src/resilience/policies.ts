import {
  type BulkheadPolicy,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  handleAll,
  type IBreaker,
  circuitBreaker as makeBreaker,
  bulkhead as makeBulkhead,
  SamplingBreaker,
} from 'cockatiel';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface RetryOptions {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** No retry unless at least this much time is left before the deadline after the backoff. */
  minRemainingMs: number;
}

export interface BreakerOptions {
  /** Opens after this many transient failures in a row. */
  consecutiveFailures: number;
  /** Also opens when more than `threshold` (0..1) of the calls in `windowMs` fail at >= `minimumRps`. */
  ratio: { threshold: number; windowMs: number; minimumRps: number };
  /** Open for this long, then one probe is let through. */
  halfOpenAfterMs: number;
}

export interface BulkheadOptions {
  /** Calls in flight per target module. */
  limit: number;
  /** Calls waiting for a slot (never past their deadline) before new ones are refused. */
  queue: number;
}

export const defaultRetry: RetryOptions = {
  maxAttempts: 3,
  initialDelayMs: 50,
  maxDelayMs: 1_000,
  minRemainingMs: 100,
};

export const defaultBreaker: BreakerOptions = {
  consecutiveFailures: 5,
  ratio: { threshold: 0.5, windowMs: 10_000, minimumRps: 5 },
  halfOpenAfterMs: 5_000,
};

export const defaultBulkhead: BulkheadOptions = { limit: 64, queue: 16 };

/** Opens when any of its parts would: consecutive failures or a failure ratio. */
class AnyBreaker implements IBreaker {
  constructor(private readonly parts: IBreaker[]) {}

  get state(): unknown {
    return this.parts.map((p) => p.state);
  }

  set state(value: unknown) {
    if (!Array.isArray(value)) return;
    for (const [i, p] of this.parts.entries()) p.state = value[i];
  }

  success(state: CircuitState): void {
    for (const p of this.parts) p.success(state);
  }

  failure(state: CircuitState): boolean {
    // every part must see the failure, so no short-circuit
    return this.parts.map((p) => p.failure(state)).some(Boolean);
  }
}

/** The policies guarding calls to one target module. */
export interface ModulePolicies {
  breaker: CircuitBreakerPolicy;
  bulkhead: BulkheadPolicy;
  /** Date.now() when the breaker last opened; cockatiel's breaker reads the same wall clock. */
  openedAt: number;
}

export function toBreakerState(state: CircuitState): BreakerState {
  if (state === CircuitState.Closed) return 'closed';
  if (state === CircuitState.HalfOpen) return 'half-open';
  return 'open';
}

/**
 * Builds a module's breaker and bulkhead. The breaker counts every error thrown inside it,
 * so the caller must let through only the failures that count (transient ones).
 */
export function createPolicies(
  breaker: BreakerOptions,
  bulkhead: BulkheadOptions,
  onChange: (state: BreakerState) => void,
): ModulePolicies {
  const policy = makeBreaker(handleAll, {
    halfOpenAfter: breaker.halfOpenAfterMs,
    breaker: new AnyBreaker([
      new ConsecutiveBreaker(breaker.consecutiveFailures),
      new SamplingBreaker({
        threshold: breaker.ratio.threshold,
        duration: breaker.ratio.windowMs,
        minimumRps: breaker.ratio.minimumRps,
      }),
    ]),
  });
  const policies: ModulePolicies = {
    breaker: policy,
    bulkhead: makeBulkhead(bulkhead.limit, bulkhead.queue),
    openedAt: 0,
  };
  policy.onBreak(() => {
    policies.openedAt = Date.now();
  });
  policy.onStateChange((state) => onChange(toBreakerState(state)));
  return policies;
}

/** Whole seconds until the breaker lets a probe through, at least 1. */
export function secondsUntilHalfOpen(p: ModulePolicies, halfOpenAfterMs: number): number {
  return Math.max(1, Math.ceil((p.openedAt + halfOpenAfterMs - Date.now()) / 1000));
}
