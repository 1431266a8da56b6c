export {
  type ResilienceMiddleware,
  type ResilienceOptions,
  resilience,
} from './middleware.ts';
export {
  type BreakerOptions,
  type BreakerState,
  type BulkheadOptions,
  defaultBreaker,
  defaultBulkhead,
  defaultRetry,
  type RetryOptions,
} from './policies.ts';
