import {
  ErrorCode,
  Events,
  headers,
  type MsgHdrs,
  type NatsConnection,
  NatsError,
  ServiceError,
} from 'nats';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import { traceHeaders } from '../observability/tracing.ts';
import { actionSubject } from './subjects.ts';
import type { Call, Transport } from './types.ts';
import { decodeBody, encodeCall, errorFromWire } from './wire.ts';

/**
 * Calls modules on other nodes with NATS request/reply. The reply wait is the call's
 * remaining deadline; "no responders" fails at once as `unavailable`, never as a timeout.
 * A timeout does not prove the action did not run: only idempotent actions are retried.
 */
export class NatsTransport implements Transport {
  readonly kind = 'nats';
  #disconnected = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
    private readonly clock: Clock,
  ) {
    // nats.js holds requests made while disconnected until their deadline; fail them at once instead.
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === Events.Disconnect) this.#disconnected = true;
        else if (s.type === Events.Reconnect) this.#disconnected = false;
      }
    })();
  }

  async send(call: Call): Promise<unknown> {
    const timeout = call.ctx.deadline - this.clock.now();
    if (timeout <= 0) throw new AppError('deadline_exceeded', 'The request deadline passed.');
    if (this.#disconnected) {
      throw new AppError('unavailable', 'NATS is unreachable from this node; try again shortly.', {
        retryAfter: 1,
      });
    }
    // The active span is the caller's client span: the callee's server span becomes its child.
    // No span (tracing off, no caller's traceparent): no headers at all.
    let h: MsgHdrs | undefined;
    const trace = traceHeaders();
    for (const k in trace) {
      h ??= headers();
      h.append(k, trace[k]!);
    }
    let reply: Awaited<ReturnType<NatsConnection['request']>>;
    try {
      reply = await this.nc.request(
        actionSubject(this.prefix, call.module, call.action),
        encodeCall(call.ctx, call.input),
        h ? { timeout, headers: h } : { timeout },
      );
    } catch (err) {
      throw transportError(err, call.module);
    }
    if (ServiceError.isServiceError(reply)) throw errorFromWire(decodeBody(reply.data));
    return decodeBody(reply.data);
  }
}

function transportError(err: unknown, module: string): AppError {
  if (err instanceof NatsError) {
    if (err.code === ErrorCode.NoResponders) {
      return new AppError('unavailable', `The ${module} module has no running instance.`, {
        retryAfter: 1,
      });
    }
    if (err.code === ErrorCode.Timeout) {
      return new AppError('deadline_exceeded', `The ${module} module did not answer in time.`, {
        retryAfter: 1,
      });
    }
  }
  return new AppError('unavailable', `The ${module} module could not be reached.`, {
    retryAfter: 1,
  });
}
