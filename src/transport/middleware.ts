import { assertNotExpired } from '../context.ts';
import { toAppError } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Dispatcher } from './dispatcher.ts';
import type { CallMiddleware } from './types.ts';

/** Refuses calls whose deadline already passed, before any work is done for them. */
export const deadline: CallMiddleware = (call, next) => {
  assertNotExpired(call.ctx);
  return next();
};

/** Counts every module call by target, action, transport and outcome code. */
export function callMetrics(
  metrics: Metrics,
  dispatcher: Dispatcher,
  remote: string,
): CallMiddleware {
  return async (call, next) => {
    const labels = {
      module: call.module,
      action: call.action,
      transport: dispatcher.hosts(call.module) ? 'direct' : remote,
    };
    try {
      const result = await next();
      metrics.moduleCalls.inc({ ...labels, code: 'ok' });
      return result;
    } catch (err) {
      metrics.moduleCalls.inc({ ...labels, code: toAppError(err).code });
      throw err;
    }
  };
}
