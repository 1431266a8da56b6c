import { afterAll, beforeAll, expect, test } from 'bun:test';
import { type Client, client, isProblem } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';

let target: Target;
let api: Client;

beforeAll(async () => {
  target = await startTarget();
  api = client(target.baseUrl);
}, 60_000);
afterAll(() => target?.stop());

const deposit = (token: string, amountCents: number, key?: string) =>
  api.post(
    '/accounts/me/deposits',
    { amountCents },
    { token, headers: key === undefined ? {} : { 'idempotency-key': key } },
  );

const balance = async (token: string) =>
  (await api.get('/accounts/me', { token })).body.balanceCents as number;

const entries = async (token: string) =>
  (await api.get('/accounts/me/transactions?limit=100', { token })).body.items as {
    amountCents: number;
  }[];

const newKey = () => `dep-${crypto.randomUUID()}`;

test('same key, same body: the first 201 again, one ledger entry, one balance change', async () => {
  const user = await api.newUser('idem');
  await api.deposit(user.token, 7);
  const key = newKey();
  const first = await deposit(user.token, 250, key);
  expect(first.status).toBe(201);
  expect(first.body).toEqual({ userId: user.id, balanceCents: 257 });
  for (let i = 0; i < 3; i++) {
    const again = await deposit(user.token, 250, key);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
  }
  expect(await balance(user.token)).toBe(257);
  expect((await entries(user.token)).map((e) => e.amountCents)).toEqual([250, 7]);
});

test('a replay answers the first result even after later deposits moved the balance', async () => {
  const user = await api.newUser('idem');
  const key = newKey();
  const first = await deposit(user.token, 100, key);
  await api.deposit(user.token, 11);
  const again = await deposit(user.token, 100, key);
  expect(again.status).toBe(201);
  expect(again.body).toEqual(first.body);
  expect(await balance(user.token)).toBe(111);
  expect((await entries(user.token)).length).toBe(2);
});

test('same key with another amount is 422, and nothing changes', async () => {
  const user = await api.newUser('idem');
  const key = newKey();
  expect((await deposit(user.token, 100, key)).status).toBe(201);
  const other = await deposit(user.token, 101, key);
  expect(isProblem(other, 422)).toBe(true);
  expect(other.body.type).toBe('urn:bunshop:problem:unprocessable');
  expect(await balance(user.token)).toBe(100);
  expect((await entries(user.token)).length).toBe(1);
  // The key still answers its own body afterwards.
  expect((await deposit(user.token, 100, key)).body.balanceCents).toBe(100);
});

test('a key that is not 1..255 printable ASCII characters is 400, with no deposit', async () => {
  const user = await api.newUser('idem');
  // fetch trims surrounding whitespace and refuses CR, LF and NUL in header values, so the
  // control characters that can be sent are a tab inside the value and DEL.
  const bad: [string, string][] = [
    ['empty', ''],
    ['only whitespace (sent as empty)', '\t'],
    ['256 characters', 'k'.repeat(256)],
    ['a tab inside', 'a\tb'],
    ['DEL', 'a\u007fb'],
    ['non-ASCII', 'clé'],
  ];
  for (const [label, key] of bad) {
    const res = await deposit(user.token, 100, key);
    expect({ label, ok: isProblem(res, 400) }).toEqual({ label, ok: true });
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain('Idempotency-Key');
  }
  expect(await balance(user.token)).toBe(0);
  expect(await entries(user.token)).toEqual([]);
});

test('the longest key, and keys with spaces and SQL metacharacters, work as keys', async () => {
  const user = await api.newUser('idem');
  const keys = [
    'k'.repeat(255),
    'a b c',
    "x' OR '1'='1",
    "'); DELETE FROM payment.ledger; --",
    '~!@#$%^&*()',
  ];
  let total = 0;
  for (const [i, key] of keys.entries()) {
    const amount = 10 + i;
    total += amount;
    const first = await deposit(user.token, amount, key);
    expect(first.status).toBe(201);
    expect(first.body.balanceCents).toBe(total);
    const again = await deposit(user.token, amount, key);
    expect(again.body).toEqual(first.body);
  }
  expect(await balance(user.token)).toBe(total);
  expect((await entries(user.token)).length).toBe(keys.length);
});

test('keys are per user: the same key from two users makes two independent deposits', async () => {
  const alice = await api.newUser('alice');
  const bob = await api.newUser('bob');
  const key = newKey();
  const a = await deposit(alice.token, 300, key);
  const b = await deposit(bob.token, 900, key);
  expect(a.status).toBe(201);
  expect(b.status).toBe(201);
  expect(a.body).toEqual({ userId: alice.id, balanceCents: 300 });
  expect(b.body).toEqual({ userId: bob.id, balanceCents: 900 });
  expect(await balance(alice.token)).toBe(300);
  expect(await balance(bob.token)).toBe(900);
  expect((await entries(alice.token)).map((e) => e.amountCents)).toEqual([300]);
  expect((await entries(bob.token)).map((e) => e.amountCents)).toEqual([900]);
});

test('10 concurrent deposits with one key: one ledger entry, one balance change', async () => {
  const user = await api.newUser('race');
  const key = newKey();
  const replies = await Promise.all(
    Array.from({ length: 10 }, () => deposit(user.token, 4321, key)),
  );
  // API.md allows 409 for a request whose twin is still in flight; every other answer is the first.
  const done = replies.filter((r) => r.status === 201);
  const busy = replies.filter((r) => r.status !== 201);
  expect(done.length).toBeGreaterThanOrEqual(1);
  for (const r of busy) expect(isProblem(r, 409)).toBe(true);
  for (const r of done) expect(r.body).toEqual({ userId: user.id, balanceCents: 4321 });
  expect(await balance(user.token)).toBe(4321);
  expect((await entries(user.token)).map((e) => e.amountCents)).toEqual([4321]);
});

test('concurrent deposits with one key and different amounts: one wins, the rest are 422', async () => {
  const user = await api.newUser('race');
  const key = newKey();
  const amounts = [100, 200, 300, 400, 500];
  const replies = await Promise.all(amounts.map((a) => deposit(user.token, a, key)));
  const won = replies.filter((r) => r.status === 201);
  expect(won.length).toBe(1);
  for (const r of replies) if (r.status !== 201) expect([409, 422]).toContain(r.status);
  const amount = won[0]!.body.balanceCents as number;
  expect(amounts).toContain(amount);
  expect(await balance(user.token)).toBe(amount);
  expect((await entries(user.token)).map((e) => e.amountCents)).toEqual([amount]);
});

test('an invalid amount with a fresh key is 400 and does not burn the key', async () => {
  const user = await api.newUser('idem');
  const key = newKey();
  expect(isProblem(await deposit(user.token, 0, key), 400)).toBe(true);
  const ok = await deposit(user.token, 55, key);
  expect(ok.status).toBe(201);
  expect(ok.body.balanceCents).toBe(55);
});
