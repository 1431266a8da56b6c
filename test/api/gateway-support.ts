import { expect } from 'bun:test';
import { connect } from 'node:net';
import type { Reply } from '../support/client.ts';

/** Asserts an RFC 9457 problem document, showing the whole reply when it is not one. */
export function expectProblem(reply: Reply, status: number, kind?: string): void {
  const seen = {
    status: reply.status,
    contentType: reply.headers.get('content-type'),
    body: reply.body ?? reply.text,
  };
  expect(seen).toMatchObject({
    status,
    contentType: expect.stringMatching(/^application\/problem\+json/),
    body: {
      type: kind ? `urn:bunshop:problem:${kind}` : expect.stringMatching(/^urn:bunshop:problem:/),
      title: expect.any(String),
      status,
      detail: expect.any(String),
    },
  });
  expect(leaks(reply.text)).toEqual([]);
  expect(reply.headers.get('x-request-id')).toBeTruthy();
}

/** What an error body must never show: stack frames, SQL, drivers, source files. */
const leakPatterns: [string, RegExp][] = [
  ['stack frame', /\bat [\w.<>$]+ \(|\bat (file:\/\/|\/)|:\d+:\d+\)|\n\s+at /],
  ['SQL', /\bselect\b.{0,200}?\bfrom\b|\binsert into\b|\bupdate\b.*\bset\b|\bSQLSTATE\b/i],
  ['postgres', /postgres|pglite/i],
  ['drizzle', /drizzle/i],
  ['source file', /\.ts\b|node_modules/],
  ['internal class', /AppError|TypeError|RangeError/],
];

/** The names of the leak patterns found in a response body. */
export function leaks(text: string): string[] {
  return leakPatterns.filter(([, re]) => re.test(text)).map(([name]) => name);
}

/** Parsed head of a raw HTTP/1.1 response. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Everything the server sent, including any later responses on the same connection. */
  all: string;
}

/**
 * Sends bytes as they are over a plain TCP socket (for lying Content-Length and the like)
 * and returns the first response; the connection is read until the server closes it.
 */
export function rawHttp(baseUrl: string, data: string | Uint8Array): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseRaw(Buffer.concat(chunks).toString('utf8')));
    };
    const socket = connect(Number(port), hostname, () => socket.write(data));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', finish);
    // The server may keep the connection open after answering; what arrived by then is enough.
    const timer = setTimeout(finish, 3000);
  });
}

function parseRaw(all: string): RawResponse {
  const headEnd = all.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? all : all.slice(0, headEnd);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = headEnd < 0 ? '' : all.slice(headEnd + 4);
  const length = Number(headers['content-length'] ?? rest.length);
  return {
    status: Number(statusLine.split(' ')[1] ?? 0),
    headers,
    body: Buffer.from(rest).subarray(0, length).toString('utf8'),
    all,
  };
}

/** A Reply (as the JSON client returns it) built from a raw response, for expectProblem. */
export function replyOf(raw: RawResponse): Reply {
  let body: unknown;
  try {
    body = JSON.parse(raw.body);
  } catch {
    body = undefined;
  }
  return { status: raw.status, headers: new Headers(raw.headers), body, text: raw.body };
}

/** A JSON document of exactly `bytes` bytes that POST /users parses and then refuses (400). */
export function jsonOfSize(bytes: number): string {
  const shell = '{"name":"","email":"x@example.com","password":"12345678"}';
  return shell.replace('"name":""', `"name":"${'a'.repeat(bytes - shell.length)}"`);
}
