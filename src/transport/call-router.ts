import type { Clock } from '../clock.ts';
import type { Logger } from '../observability/log.ts';
import { breakerLevels, type Metrics } from '../observability/metrics.ts';
import { resilience } from '../resilience/index.ts';
import type { Dispatcher } from './dispatcher.ts';
import { deadline, observeCalls } from './middleware.ts';
import { Router } from './router.ts';
import type { Transport } from './types.ts';

/**
 * The router every node calls modules through: deadline check, then call metrics (so a call is
 * counted once, with the outcome its caller saw), then breakers, bulkheads and retries for
 * modules this process does not host.
 */
export function callRouter(o: {
  dispatcher: Dispatcher;
  transport: Transport;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
}): Router {
  const guard = resilience({
    isRemote: (module) => !o.dispatcher.hosts(module),
    log: o.log,
    clock: o.clock,
    onBreakerChange: (module, state) =>
      o.metrics.breakerState.set({ module }, breakerLevels[state]),
  });
  return new Router(o.dispatcher, o.transport, [
    deadline,
    observeCalls(o.metrics, o.dispatcher, o.transport.kind),
    guard,
  ]);
}
