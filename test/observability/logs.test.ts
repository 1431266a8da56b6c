import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client, type Reply, type RequestOptions } from '../support/client.ts';
import { createDatabase } from '../support/database.ts';
import { spawnNode } from '../support/process.ts';

/** What a node prints: JSON access lines that follow requests and traces, and no secret. */
const db = await createDatabase();
const cwd = mkdtempSync(join(tmpdir(), 'bunshop-logs-'));
afterAll(async () => {
  await db.drop();
  rmSync(cwd, { recursive: true, force: true });
});

const random = () => crypto.randomUUID().replaceAll('-', '');
const dbPassword = `db-${random()}`;
const jwtSecret = `jwt-${random()}${random()}`;
const admin = { email: `admin-${random().slice(0, 8)}@example.com`, password: `adm-${random()}` };
// Postgres here trusts local connections, so the password only has to stay out of the logs.
const databaseUrl = Object.assign(new URL(db.url), { password: dbPassword }).toString();
const env = {
  DATABASE_URL: databaseUrl,
  JWT_SECRET: jwtSecret,
  ADMIN_EMAIL: admin.email,
  ADMIN_PASSWORD: admin.password,
  LOG_LEVEL: 'debug',
};

interface Made {
  method: string;
  route: string;
  status: number;
  requestId: string;
}

interface AccessLine {
  msg: string;
  method?: string;
  route?: string;
  path?: string;
  status?: number;
  requestId?: string;
  traceId?: string;
}

test('JSON lines carry one access line per request and no secret', async () => {
  const node = await spawnNode(env, 60_000, cwd);
  const api = client(node.baseUrl);
  const made: Made[] = [];
  const call = async (
    method: string,
    path: string,
    route: string,
    body?: unknown,
    o?: RequestOptions,
  ): Promise<Reply> => {
    const reply = await api.request(method, path, body, o);
    made.push({
      method,
      route,
      status: reply.status,
      requestId: reply.headers.get('x-request-id')!,
    });
    return reply;
  };
  const signIn = async (email: string, password: string) => {
    const reply = await call('POST', '/auth/token', '/auth/token', { email, password });
    expect(reply.status).toBe(200);
    return reply.body.accessToken as string;
  };

  const secrets = [dbPassword, jwtSecret, admin.password];
  const adminToken = await signIn(admin.email, admin.password);
  const sku = `LOG-${random().slice(0, 8)}`;
  const item = { name: 'Mug', priceCents: 1_200, available: 10 };
  const stocked = await call('PUT', `/inventory/items/${sku}`, '/inventory/items/{sku}', item, {
    token: adminToken,
  });
  expect(stocked.status).toBe(201);

  const users: { email: string; password: string; token: string }[] = [];
  for (const name of ['Ann', 'Bob', 'Cy']) {
    const email = `${name.toLowerCase()}-${random().slice(0, 8)}@example.com`;
    const password = `pw-${random()}`;
    expect((await call('POST', '/users', '/users', { name, email, password })).status).toBe(201);
    users.push({ email, password, token: await signIn(email, password) });
    secrets.push(password);
  }
  const [ann, bob, cy] = users as [(typeof users)[0], (typeof users)[0], (typeof users)[0]];
  const tokens = [adminToken, ...users.map((u) => u.token)];
  for (const [user, amountCents] of [
    [ann, 10_000],
    [bob, 100],
  ] as const) {
    const deposit = await call(
      'POST',
      '/accounts/me/deposits',
      '/accounts/me/deposits',
      { amountCents },
      { token: user.token },
    );
    expect(deposit.status).toBe(201);
  }
  const lines = { items: [{ sku, qty: 1 }] };
  const confirmed = await call('POST', '/orders', '/orders', lines, { token: ann.token });
  expect(confirmed.body.status).toBe('CONFIRMED');
  const rejected = await call('POST', '/orders', '/orders', lines, { token: bob.token });
  expect(rejected.body.status).toBe('REJECTED');
  const read = await call('GET', `/orders/${confirmed.body.id}`, '/orders/{id}', undefined, {
    token: ann.token,
  });
  expect(read.status).toBe(200);

  // A well-formed token signed with another key: refused, and no more loggable than a good one.
  const forged = `${adminToken.split('.').slice(0, 2).join('.')}.${random()}`;
  const refused = await call('GET', '/users/me', '/users/me', undefined, { token: forged });
  expect(refused.status).toBe(401);
  const me = await call('GET', '/users/me', '/users/me', undefined, {
    headers: { Authorization: `Bearer ${cy.token}` },
  });
  expect(me.body.email).toBe(cy.email);
  const wrongPassword = `wrong-${random()}`;
  secrets.push(wrongPassword);
  const wrong = await call('POST', '/auth/token', '/auth/token', {
    email: ann.email,
    password: wrongPassword,
  });
  expect(wrong.status).toBe(401);

  const traceId = random();
  const requestId = `logs-test-${random().slice(0, 12)}`;
  const traced = await call('GET', `/inventory/items/${sku}`, '/inventory/items/{sku}', undefined, {
    headers: {
      traceparent: `00-${traceId}-${random().slice(0, 16)}-01`,
      'x-request-id': requestId,
    },
  });
  expect(traced.status).toBe(200);
  expect(traced.headers.get('x-request-id')).toBe(requestId);

  node.proc.kill('SIGTERM');
  expect(await node.exited).toBe(0);
  const output = node.output();

  for (const secret of [...secrets, ...tokens, forged]) expect(output).not.toContain(secret);
  for (const token of tokens) expect(output).not.toContain(token.slice(0, 20));
  expect(output).not.toContain('Bearer ey');

  const records = output
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as AccessLine & Record<string, unknown>);
  for (const record of records) {
    for (const key of ['time', 'level', 'msg', 'node']) expect(typeof record[key]).toBe('string');
  }
  const access = records.filter((r) => r.msg === 'request');
  for (const request of made) {
    const logged = access.filter((r) => r.requestId === request.requestId);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ ...request, level: 'info' });
  }
  // Nothing else reached the API routes, so nothing else may be logged as one.
  expect(access.filter((r) => !r.route?.startsWith('/health'))).toHaveLength(made.length);
  const tracedLine = access.find((r) => r.requestId === requestId);
  expect(tracedLine?.traceId).toBe(traceId);
  expect(tracedLine?.path).toBe(`/inventory/items/${sku}`);
}, 120_000);

test('LOG_FORMAT=pretty prints human lines instead of JSON', async () => {
  const node = await spawnNode({ ...env, LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' }, 60_000, cwd);
  expect((await client(node.baseUrl).get('/users/me')).status).toBe(401);
  node.proc.kill('SIGTERM');
  expect(await node.exited).toBe(0);
  const lines = node
    .output()
    .split('\n')
    .filter((l) => l.trim());
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(() => JSON.parse(line)).toThrow();
  // Stack frames are indented continuation lines; every other line starts with clock and level.
  const heads = lines.filter((l) => !l.startsWith(' '));
  for (const line of heads)
    expect(line).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3} (DEBUG|INFO |WARN |ERROR) /);
  expect(heads.some((l) => l.includes(' INFO ') && l.includes('listening on http://'))).toBe(true);
  expect(heads.some((l) => /INFO .*request .*route=\/users\/me .*status=401/.test(l))).toBe(true);
  expect(node.output()).not.toContain(dbPassword);
}, 120_000);
