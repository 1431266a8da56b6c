import { systemClock } from '../../src/clock.ts';
import type { Logger } from '../../src/observability/log.ts';
import { breakerLevels, type Metrics } from '../../src/observability/metrics.ts';
import { resilience } from '../../src/resilience/index.ts';
import type { Dispatcher } from '../../src/transport/dispatcher.ts';
import { deadline, observeCalls } from '../../src/transport/middleware.ts';
import { Router } from '../../src/transport/router.ts';
import type { Transport } from '../../src/transport/types.ts';

/** The router exactly as src/node.ts wires it, for the micro-benchmarks. */
export function routerFor(
  dispatcher: Dispatcher,
  transport: Transport,
  metrics: Metrics,
  log: Logger,
): Router {
  const guard = resilience({
    isRemote: (module) => !dispatcher.hosts(module),
    log,
    clock: systemClock,
    onBreakerChange: (module, state) => metrics.breakerState.set({ module }, breakerLevels[state]),
  });
  return new Router(dispatcher, transport, [
    deadline,
    observeCalls(metrics, dispatcher, transport.kind),
    guard,
  ]);
}
