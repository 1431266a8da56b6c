import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per process; every metric bunshop exposes is created here. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency, by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const moduleCalls = new Counter({
    name: 'module_calls_total',
    help: 'Module calls, by target module, action, transport and outcome code.',
    labelNames: ['module', 'action', 'transport', 'code'] as const,
    registers: [registry],
  });
  const sagaOutcomes = new Counter({
    name: 'saga_outcomes_total',
    help: 'Sagas finished, by saga, outcome and reason.',
    labelNames: ['saga', 'outcome', 'reason'] as const,
    registers: [registry],
  });
  const eventDeliveries = new Counter({
    name: 'event_deliveries_total',
    help: 'Event deliveries to subscribers, by event, subscriber module and outcome.',
    labelNames: ['event', 'module', 'outcome'] as const,
    registers: [registry],
  });
  const breakerState = new Gauge({
    name: 'circuit_breaker_state',
    help: 'Circuit breaker per target module: 0 closed, 1 half-open, 2 open.',
    labelNames: ['module'] as const,
    registers: [registry],
  });
  return {
    registry,
    httpRequests,
    httpDuration,
    moduleCalls,
    sagaOutcomes,
    eventDeliveries,
    breakerState,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

export const breakerLevels = { closed: 0, 'half-open': 1, open: 2 } as const;
