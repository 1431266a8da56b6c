import {
  type Context,
  context,
  createContextKey,
  isSpanContextValid,
  trace,
} from '@opentelemetry/api';

const requestIdKey = createContextKey('bunshop.request_id');

/** The request id the active context carries, if any. */
export function activeRequestId(ctx: Context = context.active()): string | undefined {
  return ctx.getValue(requestIdKey) as string | undefined;
}

/**
 * A context that adds the request id to its parent: one object per request, where OpenTelemetry's
 * own `setValue` copies the parent's map and makes three closures.
 */
class RequestScope implements Context {
  constructor(
    private readonly parent: Context,
    private readonly requestId: string,
  ) {}

  getValue(key: symbol): unknown {
    return key === requestIdKey ? this.requestId : this.parent.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    return key === requestIdKey
      ? new RequestScope(this.parent, value as string)
      : new RequestScope(this.parent.setValue(key, value), this.requestId);
  }

  deleteValue(key: symbol): Context {
    return key === requestIdKey
      ? this.parent.deleteValue(key)
      : new RequestScope(this.parent.deleteValue(key), this.requestId);
  }
}

/** The request a piece of work belongs to, carried with the active trace context. */
export function withRequestId(ctx: Context, requestId: string): Context {
  return new RequestScope(ctx, requestId);
}

/**
 * Request, trace and span ids of the work running now, for log lines. With tracing off the
 * active span is the caller's, passed through: its trace id is ours too, its span id is not.
 */
export function activeIds(): { requestId?: string; traceId?: string; spanId?: string } {
  const active = context.active();
  const requestId = active.getValue(requestIdKey) as string | undefined;
  const span = trace.getSpan(active);
  const ids = span?.spanContext();
  if (!ids || !isSpanContextValid(ids)) return requestId ? { requestId } : {};
  return {
    ...(requestId ? { requestId } : {}),
    traceId: ids.traceId,
    ...(span?.isRecording() ? { spanId: ids.spanId } : {}),
  };
}
