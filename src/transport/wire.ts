import type { CallContext, Caller } from '../context.ts';
import { AppError, type SerializedError } from '../errors.ts';

/** Headers that carry the call context across NATS; trace context travels as W3C `traceparent`. */
export const wireHeaders = {
  deadline: 'Bunshop-Deadline',
  requestId: 'Bunshop-Request-Id',
  caller: 'Bunshop-Caller',
} as const;

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

/** The context from a request's headers; a malformed header is a typed error, never a crash. */
export function contextFrom(get: (name: string) => string | undefined, now: number): CallContext {
  const deadline = Number(get(wireHeaders.deadline));
  const requestId = get(wireHeaders.requestId) || crypto.randomUUID();
  let caller: Caller = { kind: 'anonymous' };
  try {
    const parsed = JSON.parse(get(wireHeaders.caller) ?? 'null') as Caller | null;
    if (parsed && isCaller(parsed)) caller = parsed;
  } catch {}
  return {
    deadline: Number.isFinite(deadline) && deadline > 0 ? deadline : now + 5_000,
    requestId,
    caller,
  };
}

function isCaller(c: Caller): boolean {
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
