import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type Client, client, type Reply } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';
import { expectProblem, jsonOfSize, rawHttp, replyOf } from './gateway-support.ts';

const KiB64 = 64 * 1024;

let target: Target;
let api: Client;
let user: Awaited<ReturnType<Client['newUser']>>;
let adminToken: string;

beforeAll(async () => {
  target = await startTarget();
  api = client(target.baseUrl);
  user = await api.newUser('limit');
  adminToken = await api.adminToken();
}, 60_000);
afterAll(() => target?.stop());

let seq = 0;
/** A valid registration padded with an ignored field to exactly `bytes` bytes of UTF-8. */
function registrationOfSize(bytes: number, pad = 'a'): string {
  const shell = JSON.stringify({
    name: 'Padded',
    email: `pad-${Date.now().toString(36)}-${seq++}@example.com`,
    password: 'correct-horse-1',
    pad: '',
  });
  const room = bytes - Buffer.byteLength(shell);
  const wide = Math.floor(room / Buffer.byteLength(pad));
  const padding = pad.repeat(wide) + 'a'.repeat(room - wide * Buffer.byteLength(pad));
  const text = shell.replace('"pad":""', `"pad":"${padding}"`);
  expect(Buffer.byteLength(text)).toBe(bytes);
  return text;
}

/** A body streamed in chunks, so fetch sends it with Transfer-Encoding: chunked. */
function chunked(text: string, chunk = 4096) {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + chunk));
      offset += chunk;
    },
  });
}

async function postStream(
  path: string,
  body: ReadableStream<Uint8Array>,
  token?: string,
): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(target.baseUrl + path, {
    method: 'POST',
    headers,
    body,
    duplex: 'half',
  } as RequestInit);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, body: parsed, text };
}

describe('with Content-Length', () => {
  test('64 KiB + 1 is 413, even when the bytes are not JSON (refused before parsing)', async () => {
    const junk = await api.post('/users', undefined, { raw: '{'.repeat(KiB64 + 1) });
    expectProblem(junk, 413, 'payload-too-large');
    const json = await api.post('/users', undefined, { raw: jsonOfSize(KiB64 + 1) });
    expectProblem(json, 413, 'payload-too-large');
  });

  test('exactly 64 KiB of valid JSON is parsed and served', async () => {
    const res = await api.post('/users', undefined, { raw: registrationOfSize(KiB64) });
    expect(res.status).toBe(201);
    expect(res.body.name).toBe('Padded');
  });

  test('exactly 64 KiB that breaks a field rule is a 400, not a 413', async () => {
    const res = await api.post('/users', undefined, { raw: jsonOfSize(KiB64) });
    expectProblem(res, 400, 'validation');
  });

  test('the limit counts bytes, not characters', async () => {
    const text = registrationOfSize(KiB64 + 1, 'é');
    expect(text.length).toBeLessThanOrEqual(KiB64);
    expectProblem(await api.post('/users', undefined, { raw: text }), 413, 'payload-too-large');
  });

  test('signed-in and admin routes refuse 64 KiB + 1 too', async () => {
    const raw = jsonOfSize(KiB64 + 1);
    expectProblem(
      await api.post('/orders', undefined, { raw, token: user.token }),
      413,
      'payload-too-large',
    );
    expectProblem(
      await api.post('/accounts/me/deposits', undefined, { raw, token: user.token }),
      413,
      'payload-too-large',
    );
    expectProblem(
      await api.put('/inventory/items/BIG-1', undefined, { raw, token: adminToken }),
      413,
      'payload-too-large',
    );
    const account = await api.get('/accounts/me', { token: user.token });
    expect(account.body.balanceCents).toBe(0);
    expect((await api.get('/inventory/items/BIG-1')).status).toBe(404);
  });
});

describe('chunked (no Content-Length)', () => {
  test('64 KiB + 1 streamed in chunks is 413', async () => {
    const res = await postStream('/users', chunked(registrationOfSize(KiB64 + 1)));
    expectProblem(res, 413, 'payload-too-large');
  });

  test('exactly 64 KiB streamed in chunks is served', async () => {
    const res = await postStream('/users', chunked(registrationOfSize(KiB64)));
    expect(res.status).toBe(201);
  });

  test('an endless stream is cut off at the limit, not read to the end', async () => {
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Stops at 32 MiB so a server that reads everything fails the test instead of hanging.
        if (sent >= 32 * 1024 * 1024) return controller.close();
        sent += 16 * 1024;
        controller.enqueue(new Uint8Array(16 * 1024).fill(0x20));
      },
    });
    const res = await postStream('/orders', endless, user.token);
    expectProblem(res, 413, 'payload-too-large');
    expect(sent).toBeLessThan(32 * 1024 * 1024);
  });

  test('a small chunked order body is read and served', async () => {
    const res = await postStream(
      '/accounts/me/deposits',
      chunked('{"amountCents":5}', 3),
      user.token,
    );
    expect(res.status).toBe(201);
    expect(res.body.balanceCents).toBe(5);
  });
});

describe('lying Content-Length over a raw socket', () => {
  const head = (length: number, extra = '') =>
    `POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${extra}\r\n`;

  test('a small Content-Length before a large body: only the declared bytes are read', async () => {
    const res = await rawHttp(target.baseUrl, `${head(2)}{}${'x'.repeat(KiB64 * 2)}`);
    // `{}` alone was parsed and refused field by field; the rest was never taken as this body.
    expectProblem(replyOf(res), 400, 'validation');
    expect(
      replyOf(res)
        .body.errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(['email', 'name', 'password']);
  });

  test('a small Content-Length that cuts JSON short is invalid JSON, never a 5xx', async () => {
    const body = registrationOfSize(KiB64 + 100);
    const res = await rawHttp(target.baseUrl, `${head(10, 'Connection: close\r\n')}${body}`);
    expectProblem(replyOf(res), 400, 'validation');
    expect(res.all).not.toMatch(/HTTP\/1\.1 5\d\d/);
  });

  test('a Content-Length over the limit is refused at once, whatever follows', async () => {
    const res = await rawHttp(target.baseUrl, `${head(KiB64 + 1, 'Connection: close\r\n')}{}`);
    expectProblem(replyOf(res), 413, 'payload-too-large');
  });

  test('a Content-Length far over the limit is still a problem document', async () => {
    const res = await rawHttp(target.baseUrl, `${head(2_000_000, 'Connection: close\r\n')}{}`);
    expectProblem(replyOf(res), 413, 'payload-too-large');
  });

  test('Content-Length together with chunked encoding is never a 5xx', async () => {
    const res = await rawHttp(
      target.baseUrl,
      `${head(100, 'Transfer-Encoding: chunked\r\nConnection: close\r\n')}2\r\n{}\r\n0\r\n\r\n`,
    );
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });
});
