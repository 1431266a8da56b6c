import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type Client, client, isProblem, uniqueSku } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';

let target: Target;
let api: Client;

beforeAll(async () => {
  target = await startTarget();
  api = client(target.baseUrl);
}, 60_000);
afterAll(() => target?.stop());

interface Entry {
  id: string;
  kind: string;
  amountCents: number;
  orderId?: string;
  createdAt: string;
}

const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const balance = async (token: string) =>
  (await api.get('/accounts/me', { token })).body.balanceCents as number;

/** Every ledger entry of the caller, following cursors. */
async function ledger(token: string): Promise<Entry[]> {
  const all: Entry[] = [];
  let cursor: string | null = null;
  do {
    const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = await api.get(`/accounts/me/transactions?limit=100${q}`, { token });
    expect(page.status).toBe(200);
    all.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return all;
}

/** Entries are newest first and each one has exactly the documented shape. */
function expectWellFormed(entries: Entry[]) {
  for (const e of entries) {
    const keys = Object.keys(e).sort();
    expect(keys).toEqual(
      e.kind === 'deposit'
        ? ['amountCents', 'createdAt', 'id', 'kind']
        : ['amountCents', 'createdAt', 'id', 'kind', 'orderId'],
    );
    expect(e.id).toMatch(uuidShape);
    expect(['deposit', 'charge', 'refund']).toContain(e.kind);
    expect(Number.isSafeInteger(e.amountCents)).toBe(true);
    expect(e.kind === 'charge' ? e.amountCents < 0 : e.amountCents > 0).toBe(true);
    expect(new Date(e.createdAt).toISOString()).toBe(e.createdAt);
    // A UUIDv7 whose first 48 bits are the entry's time in milliseconds (RFC 9562).
    expect(e.id[14]).toBe('7');
    expect(Number.parseInt(e.id.replaceAll('-', '').slice(0, 12), 16)).toBe(
      Date.parse(e.createdAt),
    );
  }
  const times = entries.map((e) => Date.parse(e.createdAt));
  for (let i = 1; i < times.length; i++) expect(times[i]!).toBeLessThanOrEqual(times[i - 1]!);
  expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
}

const sum = (entries: Entry[]) => entries.reduce((s, e) => s + e.amountCents, 0);

describe('accounts', () => {
  test('a new user has an account with balance 0 and an empty ledger right after sign-up', async () => {
    const user = await api.newUser('pay');
    const res = await api.get('/accounts/me', { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ userId: user.id, balanceCents: 0 });
    const page = await api.get('/accounts/me/transactions', { token: user.token });
    expect(page.status).toBe(200);
    expect(page.body).toEqual({ items: [], nextCursor: null });
  });

  test('every account route needs a valid token: 401 with WWW-Authenticate', async () => {
    const routes: [string, string][] = [
      ['GET', '/accounts/me'],
      ['POST', '/accounts/me/deposits'],
      ['GET', '/accounts/me/transactions'],
    ];
    for (const [method, path] of routes) {
      for (const token of [undefined, 'garbage', 'a.b.c']) {
        const body = method === 'POST' ? { amountCents: 100 } : undefined;
        const res = await api.request(method, path, body, { token });
        expect(isProblem(res, 401)).toBe(true);
        expect(res.headers.get('www-authenticate')).toStartWith('Bearer');
      }
    }
  });

  test('two users each see only their own account and ledger', async () => {
    const alice = await api.newUser('alice');
    const bob = await api.newUser('bob');
    await api.deposit(alice.token, 300);
    await api.deposit(bob.token, 700);
    await api.deposit(bob.token, 5);
    expect((await api.get('/accounts/me', { token: alice.token })).body).toEqual({
      userId: alice.id,
      balanceCents: 300,
    });
    expect((await api.get('/accounts/me', { token: bob.token })).body).toEqual({
      userId: bob.id,
      balanceCents: 705,
    });
    const aliceLedger = await ledger(alice.token);
    const bobLedger = await ledger(bob.token);
    expect(aliceLedger.map((e) => e.amountCents)).toEqual([300]);
    expect(bobLedger.map((e) => e.amountCents)).toEqual([5, 700]);
    const aliceIds = new Set(aliceLedger.map((e) => e.id));
    expect(bobLedger.some((e) => aliceIds.has(e.id))).toBe(false);
  });

  test("there is no address for another user's account: 404 problems", async () => {
    const alice = await api.newUser('alice');
    const bob = await api.newUser('bob');
    await api.deposit(alice.token, 42);
    for (const path of [
      `/accounts/${alice.id}`,
      `/accounts/${alice.id}/transactions`,
      `/accounts/me/${alice.id}`,
    ]) {
      const res = await api.get(path, { token: bob.token });
      expect(isProblem(res, 404)).toBe(true);
      expect(res.text).not.toContain('42');
    }
  });
});

describe('POST /accounts/me/deposits', () => {
  test('201 {userId, balanceCents}, adding up across deposits, up to the maximum amount', async () => {
    const user = await api.newUser('dep');
    const first = await api.post(
      '/accounts/me/deposits',
      { amountCents: 1 },
      { token: user.token },
    );
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ userId: user.id, balanceCents: 1 });
    const big = await api.post(
      '/accounts/me/deposits',
      { amountCents: 100_000_000 },
      { token: user.token },
    );
    expect(big.status).toBe(201);
    expect(big.body).toEqual({ userId: user.id, balanceCents: 100_000_001 });
    expect(await balance(user.token)).toBe(100_000_001);
  });

  const invalid: [string, Record<string, unknown>][] = [
    ['0', { amountCents: 0 }],
    ['-1', { amountCents: -1 }],
    ['100000001', { amountCents: 100_000_001 }],
    ['1.5', { amountCents: 1.5 }],
    ['"5"', { amountCents: '5' }],
    ['2^53', { amountCents: 2 ** 53 }],
    ['1e308', { amountCents: 1e308 }],
    ['null', { amountCents: null }],
    ['true', { amountCents: true }],
    ['missing', {}],
    ['missing, with only balanceCents', { balanceCents: 500 }],
  ];
  test('invalid amounts are 400 naming amountCents, with no balance or ledger change', async () => {
    const user = await api.newUser('bad');
    await api.deposit(user.token, 10);
    for (const [label, body] of invalid) {
      const res = await api.post('/accounts/me/deposits', body, { token: user.token });
      expect({ label, ok: isProblem(res, 400) }).toEqual({ label, ok: true });
      expect(res.body.type).toBe('urn:bunshop:problem:validation');
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain('amountCents');
    }
    expect(await balance(user.token)).toBe(10);
    expect((await ledger(user.token)).length).toBe(1);
  });

  test('a body that is not a JSON object is refused without a deposit', async () => {
    const user = await api.newUser('raw');
    for (const raw of ['', '{"amountCents":', '[100]', '100', '{"amountCents":1e2']) {
      const res = await api.request('POST', '/accounts/me/deposits', undefined, {
        token: user.token,
        raw,
      });
      expect(isProblem(res, 400)).toBe(true);
    }
    const wrongType = await api.request('POST', '/accounts/me/deposits', undefined, {
      token: user.token,
      raw: '{"amountCents":100}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(isProblem(wrongType, 415)).toBe(true);
    expect(await balance(user.token)).toBe(0);
  });

  test('balanceCents and userId in the body are ignored (mass assignment)', async () => {
    const user = await api.newUser('mass');
    const other = await api.newUser('victim');
    const res = await api.post(
      '/accounts/me/deposits',
      { amountCents: 5, balanceCents: 999_999, userId: other.id, id: other.id, kind: 'refund' },
      { token: user.token },
    );
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ userId: user.id, balanceCents: 5 });
    expect(await balance(user.token)).toBe(5);
    expect(await balance(other.token)).toBe(0);
    const [entry] = await ledger(user.token);
    expect(entry?.kind).toBe('deposit');
    expect(entry?.id).not.toBe(other.id);
    expect(await ledger(other.token)).toEqual([]);
  });
});

describe('GET /accounts/me/transactions', () => {
  test('newest first, signed amounts (charges negative), balance = sum of entries', async () => {
    const adminToken = await api.adminToken();
    const sku = uniqueSku('PAY');
    await api.stock(adminToken, sku, 250, 10);
    const user = await api.newUser('ledger');
    for (const amount of [1000, 20, 3]) await api.deposit(user.token, amount);
    const order = await api.post('/orders', { items: [{ sku, qty: 2 }] }, { token: user.token });
    expect([201, 202]).toContain(order.status);
    const settled = await api.settled(user.token, order.body.id);
    expect(settled.status).toBe('CONFIRMED');

    const entries = await ledger(user.token);
    expectWellFormed(entries);
    expect(entries.map((e) => [e.kind, e.amountCents])).toEqual([
      ['charge', -500],
      ['deposit', 3],
      ['deposit', 20],
      ['deposit', 1000],
    ]);
    expect(entries[0]?.orderId).toBe(order.body.id);
    expect(await balance(user.token)).toBe(523);
    expect(sum(entries)).toBe(523);
  });

  test('a deposit without an Idempotency-Key is a new entry each time', async () => {
    const user = await api.newUser('twice');
    await api.deposit(user.token, 50);
    await api.deposit(user.token, 50);
    const entries = await ledger(user.token);
    expect(entries.map((e) => e.amountCents)).toEqual([50, 50]);
    expect(await balance(user.token)).toBe(100);
  });
});

describe('concurrency', () => {
  test('20 parallel deposits: balance = their sum, 20 ledger entries that add up to it', async () => {
    const user = await api.newUser('parallel');
    const amounts = Array.from({ length: 20 }, () => 1 + Math.floor(Math.random() * 1_000_000));
    const replies = await Promise.all(
      amounts.map((amountCents) =>
        api.post('/accounts/me/deposits', { amountCents }, { token: user.token }),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(amounts.map(() => 201));
    const total = amounts.reduce((s, a) => s + a, 0);
    // Each reply is the balance right after its own deposit: all distinct, the largest is the total.
    const balances = replies.map((r) => r.body.balanceCents as number);
    expect(new Set(balances).size).toBe(20);
    expect(Math.max(...balances)).toBe(total);
    expect(await balance(user.token)).toBe(total);
    const entries = await ledger(user.token);
    expectWellFormed(entries);
    expect(entries.length).toBe(20);
    expect(entries.map((e) => e.amountCents).sort((a, b) => a - b)).toEqual(
      [...amounts].sort((a, b) => a - b),
    );
    expect(sum(entries)).toBe(total);
  });
});
