import {
  type Context,
  context,
  createContextKey,
  isSpanContextValid,
  trace,
} from '@opentelemetry/api';

const requestIdKey = createContextKey('bunshop.request_id');

/** The request a piece of work belongs to, carried with the active trace context. */
export function withRequestId(ctx: Context, requestId: string): Context {
  return ctx.setValue(requestIdKey, requestId);
}

/** Request, trace and span ids of the work running now, for log lines. */
export function activeIds(): { requestId?: string; traceId?: string; spanId?: string } {
  const active = context.active();
  const requestId = active.getValue(requestIdKey) as string | undefined;
  const span = trace.getSpanContext(active);
  if (!span || !isSpanContextValid(span)) return requestId ? { requestId } : {};
  return { ...(requestId ? { requestId } : {}), traceId: span.traceId, spanId: span.spanId };
}
