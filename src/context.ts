import { AppError } from './errors.ts';

export type Role = 'customer' | 'admin';

/** Who is calling: a signed-in user, or the system itself (sagas, event handlers). */
export type Caller =
  | { kind: 'user'; userId: string; role: Role }
  | { kind: 'system'; module: string }
  | { kind: 'anonymous' };

/** Travels with every module call, locally and (in the call's body) over the network. */
export interface CallContext {
  /** Epoch milliseconds after which the caller no longer waits for an answer. */
  deadline: number;
  caller: Caller;
  requestId: string;
  /** Set by callers that retry on their own (sagas), so no layer below retries again. */
  noRetry?: boolean;
}

export const anonymous: Caller = { kind: 'anonymous' };

/** A request id a caller may choose (HTTP header, NATS call): ids reach logs and spans. */
export const saneRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

export function systemContext(module: string, timeoutMs: number, requestId?: string): CallContext {
  return {
    deadline: Date.now() + timeoutMs,
    caller: { kind: 'system', module },
    requestId: requestId ?? crypto.randomUUID(),
  };
}

export function remainingMs(ctx: CallContext, now = Date.now()): number {
  return ctx.deadline - now;
}

export function assertNotExpired(ctx: CallContext, now = Date.now()): void {
  if (ctx.deadline <= now) throw new AppError('deadline_exceeded', 'The request deadline passed.');
}

/** The signed-in user, or 401. */
export function requireUser(ctx: CallContext): { userId: string; role: Role } {
  if (ctx.caller.kind !== 'user') throw new AppError('unauthorized', 'Sign in first.');
  return ctx.caller;
}

export function isAdmin(ctx: CallContext): boolean {
  return (
    ctx.caller.kind === 'system' || (ctx.caller.kind === 'user' && ctx.caller.role === 'admin')
  );
}

export function requireAdmin(ctx: CallContext): void {
  requireUser(ctx);
  if (!isAdmin(ctx)) throw new AppError('forbidden', 'This action needs an admin account.');
}

/** Internal actions (saga steps, provisioning) accept only calls from another module. */
export function requireSystem(ctx: CallContext): void {
  if (ctx.caller.kind !== 'system') throw new AppError('forbidden', 'This action is internal.');
}

/** The same request (deadline, request id) as seen by a module calling another on its own behalf. */
export function asModule(ctx: CallContext, module: string): CallContext {
  return { ...ctx, caller: { kind: 'system', module } };
}
