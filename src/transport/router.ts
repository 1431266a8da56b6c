import type { CallContext } from '../context.ts';
import type { ClientOf, Contract } from '../contract.ts';
import { AppError } from '../errors.ts';
import type { Dispatcher } from './dispatcher.ts';
import type { Call, CallMiddleware, Transport } from './types.ts';

/**
 * The caller side: hosted modules are called directly (co-location), others through
 * the transport. The same middleware chain wraps both.
 */
export class Router {
  /** The middleware composed once, around the target: a call allocates no closure for it. */
  readonly #chain: (call: Call) => Promise<unknown>;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly transport: Transport,
    middleware: readonly CallMiddleware[] = [],
  ) {
    const target = (call: Call): Promise<unknown> =>
      this.dispatcher.hosts(call.module)
        ? this.dispatcher.dispatch(call.module, call.action, call.input, call.ctx)
        : this.transport.send(call);
    this.#chain = middleware.reduceRight<(call: Call) => Promise<unknown>>(
      (next, mw) => (call) => mw(call, next),
      target,
    );
  }

  call(call: Call): Promise<unknown> {
    return this.#chain(call);
  }

  /** A typed client for a contract: `client(inventory).reserve(input, ctx)`. */
  client<C extends Contract>(contract: C): ClientOf<C> {
    const methods: Record<string, (input: unknown, ctx: CallContext) => Promise<unknown>> = {};
    for (const [action, def] of Object.entries(contract.actions)) {
      methods[action] = (input, ctx) =>
        this.call({ module: contract.name, action, input, ctx, idempotent: def.idempotent });
    }
    return methods as ClientOf<C>;
  }
}

/** In-process transport: reaches only the modules this process hosts. */
export class LocalTransport implements Transport {
  readonly kind = 'local';
  constructor(private readonly dispatcher: Dispatcher) {}

  send(call: Call): Promise<unknown> {
    if (!this.dispatcher.hosts(call.module)) {
      return Promise.reject(
        new AppError('unavailable', `The ${call.module} module is not running.`, { retryAfter: 1 }),
      );
    }
    return this.dispatcher.dispatch(call.module, call.action, call.input, call.ctx);
  }
}
