import { INVALID_SPAN_CONTEXT, type Span, trace } from '@opentelemetry/api';
import { assertNotExpired, type CallContext } from '../context.ts';
import { toAppError } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import { inSpan, SpanKind, tracingOn } from '../observability/tracing.ts';
import type { Dispatcher } from './dispatcher.ts';
import type { CallMiddleware } from './types.ts';

const noSpan = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Refuses calls whose deadline already passed, before any work is done for them. */
export const deadline: CallMiddleware = (call, next) => {
  assertNotExpired(call.ctx);
  return next();
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
  return (call, next) => {
    const transport = dispatcher.hosts(call.module) ? 'direct' : remote;
    const caller = callerOf(call.ctx);
    const started = performance.now();
    const done = (code: string) =>
      metrics.calls.observe(
        [caller, call.module, call.action, transport, code],
        (performance.now() - started) / 1000,
      );
    const counted = (span: Span) =>
      next().then(
        (result) => {
          done('ok');
          return result;
        },
        (err) => {
          const code = toAppError(err).code;
          span.setAttribute('bunshop.code', code);
          done(code);
          throw err;
        },
      );
    // Tracing off (no exporter): no span's name and attributes to build on this hot path.
    if (!tracingOn()) return counted(noSpan);
    return inSpan(
      `${call.module}/${call.action}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'rpc.system': 'bunshop',
          'rpc.service': call.module,
          'rpc.method': call.action,
          'bunshop.transport': transport,
          'bunshop.caller': caller,
        },
      },
      counted,
      isServerFault,
    );
  };
}
