import { expect, test } from 'bun:test';
import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AppError } from '../../src/errors.ts';
import { contextFromHeaders } from '../../src/observability/tracing.ts';
import { contextFrom, errorFromWire, wireHeaders } from '../../src/transport/wire.ts';

const now = 1_700_000_000_000;
const from = (headers: Record<string, string>) => contextFrom((name) => headers[name], now);
const sampleTraceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

propagation.setGlobalPropagator(new W3CTraceContextPropagator());
const remoteParent = (headers: Record<string, string>) =>
  trace.getSpanContext(contextFromHeaders((name) => headers[name]));

test('the call context crosses NATS headers: deadline, request id, caller, trace context', () => {
  const headers = {
    [wireHeaders.deadline]: String(now + 1234),
    [wireHeaders.requestId]: 'req-1',
    [wireHeaders.caller]: JSON.stringify({ kind: 'user', userId: 'u-1', role: 'customer' }),
    traceparent: sampleTraceparent,
  };
  expect(from(headers)).toEqual({
    deadline: now + 1234,
    requestId: 'req-1',
    caller: { kind: 'user', userId: 'u-1', role: 'customer' },
  });
  expect(remoteParent(headers)).toMatchObject({
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    isRemote: true,
  });
});

test('malformed headers degrade to safe values, never a crash or an elevated caller', () => {
  const ctx = from({
    [wireHeaders.deadline]: 'soon',
    [wireHeaders.caller]: '{"kind":"user","userId":"u","role":"root"}',
  });
  expect(ctx.deadline).toBe(now + 5_000);
  expect(ctx.caller).toEqual({ kind: 'anonymous' });
  expect(
    remoteParent({ traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' }),
  ).toBeUndefined();
  expect(remoteParent({ traceparent: 'garbage' })).toBeUndefined();
  expect(from({ [wireHeaders.caller]: 'not json' }).caller).toEqual({ kind: 'anonymous' });
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
