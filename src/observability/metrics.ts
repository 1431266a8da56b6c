import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from './prom.ts';
import { TimedSeries } from './timed-series.ts';

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const sagaBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * One registry per process; every metric bunshop exposes is created here. Labels hold
 * route templates, module and action names and codes only, never ids, so series stay bounded.
 */
export function createMetrics() {
  const registry = new Registry();
  const registers = [registry];
  let runtimeCollected = false;
  return {
    registry,
    /**
     * prom-client's process and runtime metrics, registered at the first scrape rather than at
     * start: loading what they read (v8 heap spaces, perf_hooks, /proc) is a tenth of a cold start.
     */
    collectRuntime() {
      if (runtimeCollected) return;
      runtimeCollected = true;
      collectDefaultMetrics({ register: registry });
      // Gauges named `_total`, which Prometheus naming forbids (promtool check metrics flags them).
      for (const name of ['handles', 'requests', 'resources'])
        registry.removeSingleMetric(`nodejs_active_${name}_total`);
    },
    /** Read at scrape time (outbox backlog); each runs before the text is rendered. */
    scrapeHooks: [] as (() => Promise<void>)[],
    /** `bunshop_http_requests_total` and `bunshop_http_request_duration_seconds`. */
    http: new TimedSeries({
      counter: {
        name: 'bunshop_http_requests_total',
        help: 'HTTP requests answered, by method, route template and status.',
      },
      histogram: {
        name: 'bunshop_http_request_duration_seconds',
        help: 'HTTP request latency, by method, route template and status.',
      },
      labelNames: ['method', 'route', 'status'],
      buckets: latencyBuckets,
      registry,
    }),
    /** The call matrix: `bunshop_module_calls_total` and `bunshop_module_call_duration_seconds`. */
    calls: new TimedSeries({
      counter: {
        name: 'bunshop_module_calls_total',
        help: 'Module calls as their caller saw them: the call matrix, by caller, target, action, transport and outcome code.',
      },
      histogram: {
        name: 'bunshop_module_call_duration_seconds',
        help: 'Module call latency as the caller saw it, retries included.',
      },
      labelNames: ['caller', 'module', 'action', 'transport', 'code'],
      buckets: latencyBuckets,
      registry,
    }),
    /** `bunshop_module_handled_total` and `bunshop_module_handle_duration_seconds`. */
    handled: new TimedSeries({
      counter: {
        name: 'bunshop_module_handled_total',
        help: 'Module calls this node served for other nodes (over NATS), by module, action and outcome code: how load splits across instances.',
      },
      histogram: {
        name: 'bunshop_module_handle_duration_seconds',
        help: 'Time this node spent serving a module call, from dispatch to answer.',
      },
      labelNames: ['module', 'action', 'code'],
      buckets: latencyBuckets,
      registry,
    }),
    breakerState: new Gauge({
      name: 'bunshop_circuit_breaker_state',
      help: 'Circuit breaker per target module: 0 closed, 1 half-open, 2 open.',
      labelNames: ['module'] as const,
      registers,
    }),
    sagaOutcomes: new Counter({
      name: 'bunshop_saga_outcomes_total',
      help: 'Sagas finished: confirmed, rejected before any step took effect, or compensated; with the reason.',
      labelNames: ['saga', 'outcome', 'reason'] as const,
      registers,
    }),
    sagaDuration: new Histogram({
      name: 'bunshop_saga_duration_seconds',
      help: 'Time from a saga starting to its outcome being written.',
      labelNames: ['saga', 'outcome'] as const,
      buckets: sagaBuckets,
      registers,
    }),
    outboxPending: new Gauge({
      name: 'bunshop_outbox_pending_events',
      help: 'Committed events not yet published, per publishing module (read at scrape time).',
      labelNames: ['module'] as const,
      registers,
    }),
    outboxOldestAge: new Gauge({
      name: 'bunshop_outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest unpublished event, per module; 0 when none is waiting.',
      labelNames: ['module'] as const,
      registers,
    }),
    outboxLag: new Histogram({
      name: 'bunshop_outbox_relay_lag_seconds',
      help: 'Time from an event being committed to the relay publishing it.',
      labelNames: ['module'] as const,
      buckets: latencyBuckets,
      registers,
    }),
    eventDeliveries: new Counter({
      name: 'bunshop_event_deliveries_total',
      help: 'Event deliveries to a subscribing module: handled, duplicate (already in its inbox) or failed.',
      labelNames: ['event', 'module', 'outcome'] as const,
      registers,
    }),
    eventRedeliveries: new Counter({
      name: 'bunshop_event_redeliveries_total',
      help: 'Deliveries of an event that had been delivered to the same subscriber before.',
      labelNames: ['event', 'module'] as const,
      registers,
    }),
    eventDeadLetters: new Counter({
      name: 'bunshop_event_dead_letters_total',
      help: 'Events given up after repeated failures and moved to a dead-letter subject or row.',
      labelNames: ['event', 'module'] as const,
      registers,
    }),
    nodeInfo: new Gauge({
      name: 'bunshop_node_info',
      help: 'Always 1: which node this is, its version, modules and transport.',
      labelNames: ['node', 'version', 'modules', 'transport'] as const,
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The exposition text, after the scrape hooks; a failing or slow hook leaves its gauges as they were. */
export async function render(metrics: Metrics, hookTimeoutMs = 2_000): Promise<string> {
  const timeout = new Promise((resolve) => setTimeout(resolve, hookTimeoutMs).unref?.());
  metrics.collectRuntime();
  await Promise.race([Promise.allSettled(metrics.scrapeHooks.map((hook) => hook())), timeout]);
  return metrics.registry.metrics();
}

export const breakerLevels = { closed: 0, 'half-open': 1, open: 2 } as const;
