import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { context, type Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AppError } from '../../src/errors.ts';
import { createLogger, type LogFormat, type LogLevel } from '../../src/observability/log.ts';
import { withRequestId } from '../../src/observability/scope.ts';

const traceId = '0af7651916cd43dd8448eb211c80319c';
const spanId = 'b7ad6b7169203331';
const jwt =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1LTEiLCJyb2xlIjoiYWRtaW4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';

/** A logger whose lines land in an array instead of stdout and stderr. */
function capture(level: LogLevel = 'debug', format: LogFormat = 'json', base = {}) {
  const lines: Array<{ line: string; isError: boolean }> = [];
  const log = createLogger(level, base, (line, isError) => lines.push({ line, isError }), format);
  const json = () => lines.map((l) => JSON.parse(l.line) as Record<string, unknown>);
  return { log, lines, json };
}

/** A span this process records (what a registered tracer provider hands out). */
const recording: Span = Object.assign(
  Object.create(trace.wrapSpanContext({ traceId, spanId, traceFlags: 1 })),
  { isRecording: () => true },
);

/** Runs `fn` inside a context with a recording span and, optionally, a request id. */
function inSpan<T>(fn: () => T, requestId?: string): T {
  let ctx = trace.setSpan(context.active(), recording);
  if (requestId) ctx = withRequestId(ctx, requestId);
  return context.with(ctx, fn);
}

// Without a context manager context.with does not propagate; another suite may own the global one.
let ownManager = false;
beforeAll(() => {
  ownManager = context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(() => {
  if (ownManager) context.disable();
});

describe('json format', () => {
  test('one object per line: time, level, msg, base fields, then the call fields', () => {
    const { log, lines, json } = capture('debug', 'json', { node: 'node-1' });
    log.child({ module: 'order' }).info('saga resumed', { id: 'o-1', step: 'reserve' });
    expect(lines).toHaveLength(1);
    const [record] = json();
    expect(record).toEqual({
      time: expect.any(String),
      level: 'info',
      msg: 'saga resumed',
      node: 'node-1',
      module: 'order',
      id: 'o-1',
      step: 'reserve',
    });
    expect(new Date(record!.time as string).toISOString()).toBe(record!.time as string);
    expect(Object.keys(record!).slice(0, 5)).toEqual(['time', 'level', 'msg', 'node', 'module']);
  });

  test('a field cannot overwrite time, level or msg', () => {
    const { log, json } = capture();
    log.warn('real', { time: 'then', level: 'gold', msg: 'fake' });
    expect(json()[0]).toMatchObject({ level: 'warn', msg: 'real' });
    expect(json()[0]!.time).not.toBe('then');
  });

  test('only level error goes to the error stream', () => {
    const { log, lines } = capture();
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((l) => l.isError)).toEqual([false, false, false, true]);
  });

  test('lines below the threshold are dropped; silent drops everything', () => {
    const warn = capture('warn');
    warn.log.debug('d');
    warn.log.info('i');
    warn.log.warn('w');
    warn.log.error('e');
    expect(warn.json().map((r) => r.level)).toEqual(['warn', 'error']);
    const silent = capture('silent');
    silent.log.error('e');
    expect(silent.lines).toHaveLength(0);
  });

  test('request, trace and span ids come from the active context', () => {
    const { log, json } = capture();
    inSpan(() => log.info('inside'), 'req-7');
    log.info('outside');
    const [inside, outside] = json();
    expect(inside).toMatchObject({ requestId: 'req-7', traceId, spanId });
    expect(Object.keys(inside!).slice(3)).toEqual(['requestId', 'traceId', 'spanId']);
    expect(outside).not.toContainAnyKeys(['requestId', 'traceId', 'spanId']);
  });

  test('ids survive an await inside the context', async () => {
    const { log, json } = capture();
    await inSpan(async () => {
      await Bun.sleep(1);
      log.info('later');
    }, 'req-8');
    expect(json()[0]).toMatchObject({ requestId: 'req-8', traceId, spanId });
  });

  test('a field given by the caller wins over the context', () => {
    const { log, json } = capture();
    inSpan(() => log.info('explicit', { requestId: 'req-mine' }), 'req-ctx');
    expect(json()[0]).toMatchObject({ requestId: 'req-mine', traceId, spanId });
  });

  test('errors become { message, stack, code }', () => {
    const { log, json } = capture();
    log.error('failed', { err: new AppError('not_found', 'no such order'), plain: new Error('x') });
    const [record] = json();
    expect(record!.err).toEqual({
      message: 'no such order',
      stack: expect.stringContaining('no such order'),
      code: 'not_found',
    });
    expect(record!.plain).toEqual({ message: 'x', stack: expect.any(String) });
  });

  test('cycles, deep nesting and bigints still give one valid line', () => {
    const { log, lines, json } = capture();
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    const shared = { n: 1 };
    log.info('odd values', {
      loop,
      twice: [shared, shared],
      deep: { a: { b: { c: { d: { e: { f: { g: { h: 1 } } } } } } } },
      big: 10n,
      at: new Date(0),
    });
    expect(lines).toHaveLength(1);
    const [record] = json();
    expect(record!.loop).toEqual({ name: 'loop', self: '[circular]' });
    expect(record!.twice).toEqual([{ n: 1 }, { n: 1 }]);
    expect(JSON.stringify(record!.deep)).toContain('[truncated]');
    expect(record!.big).toBe('10');
    expect(record!.at).toBe('1970-01-01T00:00:00.000Z');
  });
});

describe('redaction', () => {
  test('secret keys are redacted at any depth, in objects and arrays', () => {
    const { log, json } = capture('debug', 'json', { dbPassword: 'base-secret' });
    log.info('config', {
      user: 'ann',
      nested: {
        Authorization: 'x',
        list: [{ apiKey: 'k1' }, { 'api-key': 'k2' }, { private_key: 'pk' }],
        nats: { nkey: 'SUAM', seed: 's', creds: 'c', passwd: 'p', cookie: 'c', credential: 'c' },
        accessToken: { whole: 'object' },
        clientSecret: 's',
      },
    });
    const [record] = json();
    expect(record).toMatchObject({
      dbPassword: '[redacted]',
      user: 'ann',
      nested: {
        Authorization: '[redacted]',
        list: [
          { apiKey: '[redacted]' },
          { 'api-key': '[redacted]' },
          { private_key: '[redacted]' },
        ],
        nats: {
          nkey: '[redacted]',
          seed: '[redacted]',
          creds: '[redacted]',
          passwd: '[redacted]',
          cookie: '[redacted]',
          credential: '[redacted]',
        },
        accessToken: '[redacted]',
        clientSecret: '[redacted]',
      },
    });
  });

  test('URL passwords are masked in every string, for any scheme', () => {
    const { log, json } = capture();
    log.warn('cannot reach postgres://root:hunter2@db:5432/shop', {
      urls: ['nats://s3cr3t-token@nats:4222', 'amqp://u:p@ss@mq/vhost', 'https://example.com/a@b'],
      note: 'retrying redis://:pw@cache:6379 soon',
    });
    const [record] = json();
    expect(record!.msg).toBe('cannot reach postgres://root:***@db:5432/shop');
    expect(record!.urls).toEqual([
      'nats://***@nats:4222',
      'amqp://u:***@mq/vhost',
      'https://example.com/a@b',
    ]);
    expect(record!.note).toBe('retrying redis://:***@cache:6379 soon');
  });

  test('bearer tokens and JWTs are masked inside messages and values', () => {
    const { log, json } = capture();
    log.info(`got header "Bearer ${jwt}" from client`, {
      header: 'authorisation was bearer abc123',
      raw: `token=${jwt}&x=1`,
    });
    const [record] = json();
    expect(record!.msg).toBe('got header "Bearer [redacted]" from client');
    expect(record!.header).toBe('authorisation was bearer [redacted]');
    expect(record!.raw).toBe('token=[redacted jwt]&x=1');
    expect(JSON.stringify(record)).not.toContain('eyJ');
  });

  test('error messages and stacks are scrubbed too', () => {
    const { log, lines } = capture();
    const err = new AppError('unavailable', `connect failed postgres://app:hunter2@db with ${jwt}`);
    log.error('startup', { err, wrapped: { cause: new Error('Bearer abc.def.ghi rejected') } });
    const line = lines[0]!.line;
    expect(line).not.toContain('hunter2');
    expect(line).not.toContain(jwt);
    expect(line).not.toContain('abc.def.ghi');
    const record = JSON.parse(line);
    expect(record.err.message).toBe('connect failed postgres://app:***@db with [redacted jwt]');
    expect(record.err.stack).toContain('postgres://app:***@db');
    expect(record.wrapped.cause.message).toBe('Bearer [redacted] rejected');
  });

  test('ordinary strings pass through unchanged', () => {
    const { log, json } = capture();
    const msg = 'order o-1 confirmed at https://shop.example/orders/o-1?x=eyJ for ann@example.com';
    log.info(msg, { email: 'ann@example.com', path: '/tokens-are-not-keys' });
    expect(json()[0]).toMatchObject({
      msg,
      email: 'ann@example.com',
      path: '/tokens-are-not-keys',
    });
  });
});

describe('pretty format', () => {
  test('time, level, node, module, message, then key=value pairs', () => {
    const { log, lines } = capture('debug', 'pretty', { node: 'node-1' });
    log.child({ module: 'order' }).info('saga resumed', {
      id: 'o-1',
      step: 'reserve',
      note: 'two words',
      item: { sku: 'MUG-1', qty: 2 },
      n: 3,
    });
    expect(lines[0]!.line).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}node-1 order {2}saga resumed id=o-1 step=reserve note="two words" item=\{"sku":"MUG-1","qty":2\} n=3$/,
    );
  });

  test('an error prints its message, then its stack on indented lines', () => {
    const { log, lines } = capture('debug', 'pretty');
    log.error('charge failed', { err: new AppError('unavailable', 'payment down') });
    const [first, ...rest] = lines[0]!.line.split('\n');
    expect(first).toMatch(/ERROR {2}charge failed err="payment down" err\.code=unavailable$/);
    expect(rest.length).toBeGreaterThan(0);
    for (const l of rest) expect(l).toMatch(/^ {4}\S/);
    expect(lines[0]!.isError).toBe(true);
  });

  test('redaction applies, and ids from the context are shown', () => {
    const { log, lines } = capture('debug', 'pretty');
    inSpan(
      () => log.warn('retry nats://tok@nats:4222', { password: 'p', auth: `Bearer ${jwt}` }),
      'req-9',
    );
    const line = lines[0]!.line;
    expect(line).toContain('WARN  ');
    expect(line).toContain('retry nats://***@nats:4222');
    expect(line).toContain(`requestId=req-9 traceId=${traceId} spanId=${spanId}`);
    expect(line).toContain('password=[redacted] auth="Bearer [redacted]"');
  });

  test('no colour codes when writing somewhere other than a terminal', () => {
    const { log, lines } = capture('debug', 'pretty');
    log.error('plain');
    expect(lines[0]!.line).not.toContain('\x1b[');
  });

  test('a child keeps the format, the writer and the threshold', () => {
    const { log, lines } = capture('info', 'pretty', { node: 'node-2' });
    const child = log.child({ module: 'payment' }).child({ attempt: 2 });
    child.debug('hidden');
    child.info('charged');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.line).toMatch(/ INFO {2}node-2 payment {2}charged attempt=2$/);
  });
});

test('a caller span passed through untraced gives its trace id, not its span id, to log lines', () => {
  const { log, json } = capture();
  const passedThrough = trace.setSpanContext(context.active(), { traceId, spanId, traceFlags: 1 });
  context.with(passedThrough, () => log.info('inside'));
  expect(json()[0]).toMatchObject({ traceId });
  expect(json()[0]).not.toContainKey('spanId');
});
