import { systemClock } from '../../src/clock.ts';
import { createGateway, type GatewayOptions } from '../../src/gateway/app.ts';
import { createLogger, type Logger } from '../../src/observability/log.ts';
import { createMetrics, type Metrics } from '../../src/observability/metrics.ts';
import { startTracing } from '../../src/observability/tracing.ts';
import { callRouter } from '../../src/transport/call-router.ts';
import type { Dispatcher } from '../../src/transport/dispatcher.ts';
import type { Router } from '../../src/transport/router.ts';
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
  return callRouter({ dispatcher, transport, metrics, log, clock: systemClock });
}

/** The gateway as src/http.ts builds it, with the settings a micro-benchmark needs. */
export function gatewayFor(
  router: Router,
  metrics: Metrics,
  log: Logger,
  mount: GatewayOptions['mount'],
) {
  return createGateway({
    router,
    metrics,
    log,
    clock: systemClock,
    jwtSecret: 'micro-bench-secret-that-is-long-enough-000000',
    tokenTtlSeconds: 900,
    requestTimeoutMs: 10_000,
    bodyLimitBytes: 64 * 1024,
    signIn: { perEmail: 5, perAddress: 20, windowSeconds: 60 },
    requestsPerMinute: 0,
    trustProxy: false,
    mount,
  }).app;
}
