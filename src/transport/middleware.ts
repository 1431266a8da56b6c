import type { Span } from '@opentelemetry/api';
import { assertNotExpired, type CallContext } from '../context.ts';
import { toAppError } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import { inSpan, SpanKind, tracingOn } from '../observability/tracing.ts';
import type { Dispatcher } from './dispatcher.ts';
import type { Call, CallMiddleware, NextCall } from './types.ts';

/** Refuses calls whose deadline already passed, before any work is done for them. */
export const deadline: CallMiddleware = (call, next) => {
  assertNotExpired(call.ctx);
  return next(call);
};

/** The calling module, or `gateway` for a call made on behalf of an HTTP client. */
export function callerOf(ctx: CallContext): string {
  return ctx.caller.kind === 'system' ? ctx.caller.module : 'gateway';
}

/** Errors worth a red span: the callee's or the network's fault, not a refused request. */
export function isServerFault(err: unknown): boolean {
  return toAppError(err).status >= 500;
}

/**
 * The caller's view of every call, direct or remote alike: a client span (so both
 * topologies draw the same trace tree) and the call matrix (count and latency by caller and target).
 */
export function observeCalls(
  metrics: Metrics,
  dispatcher: Dispatcher,
  remote: string,
): CallMiddleware {
  const record = (call: Call, started: number, code: string) =>
    metrics.calls.observe(
      [
        callerOf(call.ctx),
        call.module,
        call.action,
        dispatcher.hosts(call.module) ? 'direct' : remote,
        code,
      ],
      (performance.now() - started) / 1000,
    );
  // One async frame per call, no closures: this wraps every module call.
  const counted = async (call: Call, next: NextCall, span?: Span) => {
    const started = performance.now();
    try {
      const result = await next(call);
      record(call, started, 'ok');
      return result;
    } catch (err) {
      const code = toAppError(err).code;
      span?.setAttribute('bunshop.code', code);
      record(call, started, code);
      throw err;
    }
  };
  return (call, next) => {
    // Tracing off (no exporter): no span's name and attributes to build on this hot path.
    if (!tracingOn()) return counted(call, next);
    return inSpan(
      `${call.module}/${call.action}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'rpc.system': 'bunshop',
          'rpc.service': call.module,
          'rpc.method': call.action,
          'bunshop.transport': dispatcher.hosts(call.module) ? 'direct' : remote,
          'bunshop.caller': callerOf(call.ctx),
        },
      },
      (span) => counted(call, next, span),
      isServerFault,
    );
  };
}
