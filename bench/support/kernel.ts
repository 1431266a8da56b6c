import { systemClock } from '../../src/clock.ts';
import { createLogger, type Logger } from '../../src/observability/log.ts';
import { breakerLevels, createMetrics, type Metrics } from '../../src/observability/metrics.ts';
import { startTracing } from '../../src/observability/tracing.ts';
import { resilience } from '../../src/resilience/index.ts';
import type { Dispatcher } from '../../src/transport/dispatcher.ts';
import { deadline, observeCalls } from '../../src/transport/middleware.ts';
import { Router } from '../../src/transport/router.ts';
import type { Transport } from '../../src/transport/types.ts';

/**
 * A logger and metrics as node.ts makes them, with tracing set up as node.ts sets it up without
 * an OTLP endpoint: context propagation on (AsyncLocalStorage), no span recorded.
 */
export async function benchKernel(): Promise<{ log: Logger; metrics: Metrics }> {
  const log = createLogger('warn', { node: 'bench' });
  await startTracing({
    serviceName: 'bench',
    nodeId: 'bench',
    version: '0',
    modules: [],
    log,
    env: {},
  });
  return { log, metrics: createMetrics() };
}

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
