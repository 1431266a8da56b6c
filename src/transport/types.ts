import type { CallContext } from '../context.ts';

/** One module call as the kernel sees it, whichever transport carries it. */
export interface Call {
  module: string;
  action: string;
  input: unknown;
  ctx: CallContext;
  idempotent: boolean;
}

/** Carries a call to a module this node does not host. */
export interface Transport {
  readonly kind: 'local' | 'nats';
  send(call: Call): Promise<unknown>;
}

/** The rest of the chain; taking the call, it is built once, not as a closure per call. */
export type NextCall = (call: Call) => Promise<unknown>;

/** Wraps every call, direct or remote: deadline, metrics, tracing, logging. */
export type CallMiddleware = (call: Call, next: NextCall) => Promise<unknown>;
