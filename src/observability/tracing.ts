import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  INVALID_SPAN_CONTEXT,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
// The propagator's own file: the package index also loads semantic conventions and platform probes.
import { W3CTraceContextPropagator } from '@opentelemetry/core/build/esm/trace/W3CTraceContextPropagator.js';
import type { Logger } from './log.ts';

/** Resolves to the registered provider's tracer once tracing starts; a no-op before and when off. */
export const tracer = trace.getTracer('bunshop');

export interface Tracing {
  /** True when spans are recorded and exported; false costs one no-op span object per site. */
  enabled: boolean;
  /** Flushes the spans still buffered; call before the process exits. */
  shutdown(): Promise<void>;
}

type Env = Record<string, string | undefined>;

/** The OTLP endpoint the exporter will use, from the standard variables; undefined when off. */
export function otlpEndpoint(env: Env): string | undefined {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined;
}

let contextReady = false;
let recording = false;
/** No span is ever recorded when tracing is off: hot paths skip making no-op spans. */
const untraced = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Whether spans are recorded and exported in this process. */
export function tracingOn(): boolean {
  return recording;
}

/**
 * Context propagation is always on (log lines carry request and trace ids); span recording
 * and OTLP/HTTP export only when an endpoint is configured, so the SDK is not even loaded otherwise.
 */
export async function startTracing(o: {
  /** The default service name; OTEL_SERVICE_NAME overrides it. */
  serviceName: string;
  nodeId: string;
  version: string;
  modules: readonly string[];
  log: Logger;
  env?: Env;
}): Promise<Tracing> {
  if (!contextReady) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    contextReady = true;
  }
  const env = o.env ?? process.env;
  const endpoint = otlpEndpoint(env);
  if (!endpoint) return { enabled: false, shutdown: async () => {} };
  const [{ BasicTracerProvider, BatchSpanProcessor }, resources, { OTLPTraceExporter }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/exporter-trace-otlp-http'),
    ]);
  // Ours first, then OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME, which win.
  const resource = resources
    .defaultResource()
    .merge(
      resources.resourceFromAttributes({
        'service.name': o.serviceName,
        'service.version': o.version,
        'service.instance.id': o.nodeId,
        'bunshop.node.id': o.nodeId,
        'bunshop.modules': o.modules.join(',') || 'none',
      }),
    )
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new BasicTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  trace.setGlobalTracerProvider(provider);
  recording = true;
  o.log.info('tracing on: exporting spans over OTLP/HTTP', {
    endpoint: endpoint.replace(/\/\/[^@/]*@/, '//***@'),
    serviceName: resource.attributes['service.name'],
  });
  return {
    enabled: true,
    shutdown: async () => {
      await provider.shutdown();
      recording = false;
    },
  };
}

/**
 * Runs `fn` in a new active span: ends it, and records a thrown error on it. `failed`
 * decides whether an error marks the span as failed (a client's 4xx is not the server's fault).
 */
export function inSpan<T>(
  name: string,
  o: { kind?: SpanKind; attributes?: Attributes; links?: Link[]; parent?: Context },
  fn: (span: Span) => Promise<T>,
  failed: (err: unknown) => boolean = () => true,
): Promise<T> {
  // Off: no span; only a given parent (a stored or remote trace context) becomes active.
  if (!recording) return o.parent ? context.with(o.parent, fn, undefined, untraced) : fn(untraced);
  const parent = o.parent ?? context.active();
  const span = tracer.startSpan(
    name,
    { kind: o.kind ?? SpanKind.INTERNAL, attributes: o.attributes, links: o.links },
    parent,
  );
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await fn(span);
    } catch (err) {
      if (failed(err)) {
        span.recordException(err instanceof Error ? err : String(err));
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
      }
      throw err;
    } finally {
      span.end();
    }
  });
}

const outsideKey = createContextKey('bunshop.outside_transaction');

/** Marks `ctx` as the context a transaction was opened from, for work that outlives the transaction. */
export function openingTransaction(ctx: Context): Context {
  return ctx.setValue(outsideKey, ctx);
}

/** The context the current transaction was opened from (the action's span), or the active one. */
export function outsideTransaction(): Context {
  const active = context.active();
  return (active.getValue(outsideKey) as Context | undefined) ?? active;
}

/** Trace context as carrier headers (`traceparent`, `tracestate`): for NATS, JetStream and the outbox. */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The remote parent named by carrier headers; the root context when there is none or it is malformed. */
export function contextFromHeaders(get: (name: string) => string | undefined | null): Context {
  return propagation.extract(ROOT_CONTEXT, get, {
    get: (carrier, key) => carrier(key) ?? undefined,
    keys: () => ['traceparent', 'tracestate'],
  });
}

/** A link to the span context that carrier headers name, if any. */
export function linkFromHeaders(headers: Record<string, string>): Link[] {
  const span = trace.getSpanContext(contextFromHeaders((k) => headers[k]));
  return span ? [{ context: span }] : [];
}

export { SpanKind };
