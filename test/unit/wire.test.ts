import { expect, test } from 'bun:test';
import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AppError } from '../../src/errors.ts';
import { contextFromHeaders } from '../../src/observability/tracing.ts';
import { decodeCall, encodeCall, errorFromWire } from '../../src/transport/wire.ts';

const now = 1_700_000_000_000;
const encoder = new TextEncoder();
const raw = (body: unknown) => decodeCall(encoder.encode(JSON.stringify(body)), now);
const sampleTraceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

propagation.setGlobalPropagator(new W3CTraceContextPropagator());
const remoteParent = (headers: Record<string, string>) =>
  trace.getSpanContext(contextFromHeaders((name) => headers[name]));

test('the call context crosses NATS in the body; trace context in traceparent', () => {
  const ctx = {
    deadline: now + 1234,
    requestId: 'req-1',
    caller: { kind: 'user', userId: 'u-1', role: 'customer' } as const,
  };
  expect(decodeCall(encodeCall(ctx, { sku: 'A-1' }), now)).toEqual({ ctx, input: { sku: 'A-1' } });
  expect(remoteParent({ traceparent: sampleTraceparent })).toMatchObject({
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    isRemote: true,
  });
});

test('a malformed context degrades to safe values, never a crash or an elevated caller', () => {
  const { ctx, input } = raw({
    deadline: 'soon',
    requestId: 42,
    caller: { kind: 'user', userId: 'u', role: 'root' },
    input: { n: 1 },
  });
  expect(ctx.deadline).toBe(now + 5_000);
  expect(ctx.requestId).toMatch(/^[0-9a-f-]{36}$/);
  expect(ctx.caller).toEqual({ kind: 'anonymous' });
  expect(input).toEqual({ n: 1 });
  expect(raw({ caller: 'admin' }).ctx.caller).toEqual({ kind: 'anonymous' });
  // As the gateway's X-Request-Id: ids reach logs and spans, so no control characters, no 200 KB.
  for (const bad of ['x'.repeat(129), 'a\u001b[31mred', 'has space', ''])
    expect(raw({ requestId: bad }).ctx.requestId).toMatch(/^[0-9a-f-]{36}$/);
  expect(raw({ requestId: 'req-1.a:b_c' }).ctx.requestId).toBe('req-1.a:b_c');
  expect(
    remoteParent({ traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' }),
  ).toBeUndefined();
  expect(remoteParent({ traceparent: 'garbage' })).toBeUndefined();
});

test('a body that is not a call is a typed validation error', () => {
  for (const body of [[1], 'text', 7, null]) {
    expect(() => raw(body)).toThrow(expect.objectContaining({ code: 'validation' }));
  }
  expect(() => decodeCall(encoder.encode('{not json'), now)).toThrow(
    expect.objectContaining({ code: 'validation' }),
  );
});

test('typed errors keep their code across the wire and are marked as answered', () => {
  const err = errorFromWire({
    code: 'not_found',
    message: 'No such order.',
    details: { reason: 'x' },
  });
  expect(err).toBeInstanceOf(AppError);
  expect(err.code).toBe('not_found');
  expect(err.details.reason).toBe('x');
  expect(err.answered).toBe(true);
  expect(errorFromWire('garbage').code).toBe('internal');
});
