import { type CallContext, type Caller, saneRequestId } from '../context.ts';
import { AppError, type SerializedError } from '../errors.ts';

/**
 * A call on the wire is one JSON body: `{ deadline, requestId, caller, input }`. Trace context
 * travels as W3C `traceparent`/`tracestate` headers, and only when there is one: nats.js's
 * header handling cost more per call than the rest of the transport (bench/README.md).
 */
export interface WireCall {
  deadline: number;
  requestId: string;
  caller: Caller;
  input: unknown;
}

const maxBytes = 1024 * 1024;
// One of each per process: making them per message showed up in the NATS round-trip profile.
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeBody(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value ?? null));
}

export function decodeBody(bytes: Uint8Array): unknown {
  if (bytes.byteLength > maxBytes) throw new AppError('validation', 'The message is too large.');
  if (bytes.byteLength === 0) return undefined;
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    throw new AppError('validation', 'The message is not valid JSON.');
  }
}

export function encodeCall(ctx: CallContext, input: unknown): Uint8Array {
  const call: WireCall = {
    deadline: ctx.deadline,
    requestId: ctx.requestId,
    caller: ctx.caller,
    input,
  };
  return encoder.encode(JSON.stringify(call));
}

/** A call's context and input; a malformed context degrades to safe values, never an elevated caller. */
export function decodeCall(bytes: Uint8Array, now: number): { ctx: CallContext; input: unknown } {
  const body = decodeBody(bytes);
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new AppError('validation', 'The message is not a bunshop call.');
  const { deadline, requestId, caller, input } = body as Partial<Record<keyof WireCall, unknown>>;
  return {
    ctx: {
      deadline:
        typeof deadline === 'number' && Number.isFinite(deadline) && deadline > 0
          ? deadline
          : now + 5_000,
      requestId:
        typeof requestId === 'string' && saneRequestId.test(requestId)
          ? requestId
          : crypto.randomUUID(),
      caller: isCaller(caller) ? caller : { kind: 'anonymous' },
    },
    input,
  };
}

function isCaller(value: unknown): value is Caller {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Caller;
  if (c.kind === 'user')
    return typeof c.userId === 'string' && (c.role === 'customer' || c.role === 'admin');
  if (c.kind === 'system') return typeof c.module === 'string';
  return c.kind === 'anonymous';
}

export function errorFromWire(data: unknown): AppError {
  const e = data as Partial<SerializedError> | null;
  if (e && typeof e.code === 'string' && typeof e.message === 'string')
    return AppError.fromJSON(e as SerializedError);
  return new AppError('internal', 'An unexpected error occurred.');
}
