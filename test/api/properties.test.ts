import { afterAll, beforeAll, expect, test } from 'bun:test';
import fc from 'fast-check';
import * as v from 'valibot';
import { itemFields } from '../../modules/inventory/contract.ts';
import { orderBody } from '../../modules/order/contract.ts';
import { depositBody } from '../../modules/payment/contract.ts';
import { credentials, registration } from '../../modules/user/contract.ts';
import { type Client, client, type Reply, uniqueSku } from '../support/client.ts';
import { admin, startTarget, type Target } from '../support/target.ts';
import {
  bodyFor,
  hasBadText,
  oddString,
  validEmail,
  validName,
  validPassword,
  wrong,
} from './gateway-arbitraries.ts';
import { expectProblem } from './gateway-support.ts';

// The route schemas serve as the oracle: a body they refuse must be a 400, one they accept not.
const numRuns = Number(process.env.PROPERTY_RUNS ?? 100);
// PROPERTY_SEED replays a failure fast-check reported.
const options = () => ({
  numRuns,
  seed: process.env.PROPERTY_SEED ? Number(process.env.PROPERTY_SEED) : undefined,
});

let target: Target;
let api: Client;
let adminToken: string;

beforeAll(async () => {
  // Sign-in limits off the table: this file fails sign-ins on purpose, many times.
  target = await startTarget({
    SIGNIN_MAX_PER_ADDRESS: '1000000',
    SIGNIN_MAX_PER_EMAIL: '1000000',
  });
  api = client(target.baseUrl);
  adminToken = await api.adminToken();
}, 60_000);
afterAll(() => target?.stop());

/** What every answer shares: never a 5xx; a 4xx is a problem document; the schema decides 400. */
function checkAnswer(res: Reply, body: unknown, schema: v.GenericSchema, accepted: number[]) {
  expect(res.status).toBeLessThan(500);
  if (res.status >= 400) expectProblem(res, res.status);
  const valid = !hasBadText(body) && v.is(schema, body);
  if (!valid) expect({ body, status: res.status }).toEqual({ body, status: 400 });
  else expect(accepted).toContain(res.status);
}

const send = (method: string, path: string, body: unknown, token?: string) =>
  api.request(method, path, undefined, { raw: JSON.stringify(body ?? null), token });

test('POST /users', async () => {
  const created = new Map<string, unknown>();
  let signInChecks = 0;
  await fc.assert(
    fc.asyncProperty(
      bodyFor({ name: validName, email: validEmail, password: validPassword }),
      async (body) => {
        const res = await send('POST', '/users', body);
        checkAnswer(res, body, registration, [201, 409]);
        const b = (body ?? {}) as { email?: unknown; password?: unknown };
        if (res.status === 201) {
          expect(res.body.role).toBe('customer');
          expect(res.body).not.toHaveProperty('password');
          expect(res.body).not.toHaveProperty('passwordHash');
          expect(res.body.id).not.toBe((body as { id?: unknown }).id);
          created.set(String(b.email).toLowerCase(), b.password);
        }
        // A refused registration created nobody: its credentials do not sign in (hashing is slow, so a few).
        const isCredentials = v.is(credentials, body) && !hasBadText(body);
        const fresh = isCredentials && !created.has((b.email as string).toLowerCase());
        if (res.status === 400 && fresh && signInChecks++ < 8) {
          const signIn = await send('POST', '/auth/token', {
            email: b.email,
            password: b.password,
          });
          expect(signIn.status).not.toBe(200);
        }
      },
    ),
    options(),
  );
}, 120_000);

test('POST /auth/token', async () => {
  const known = await api.newUser('prop-auth');
  const email = fc.oneof(fc.constant(known.email), fc.constant(admin.email), validEmail);
  const password = fc.oneof(fc.constant(known.password), validPassword);
  await fc.assert(
    fc.asyncProperty(
      fc.oneof({ weight: 3, arbitrary: bodyFor({ email, password }) }, fc.constant(null)),
      async (body) => {
        const res = await send('POST', '/auth/token', body);
        checkAnswer(res, body, credentials, [200, 401]);
        const b = body as { email?: unknown; password?: unknown } | null;
        const right = b?.email === known.email && b?.password === known.password;
        if (res.status === 200) {
          expect(right).toBe(true);
          expect(res.body.tokenType).toBe('Bearer');
        }
        if (right && res.status !== 400) expect(res.status).toBe(200);
      },
    ),
    options(),
  );
}, 120_000);

test('PUT /inventory/items/{sku} (admin)', async () => {
  const sku = uniqueSku('PROP');
  const path = `/inventory/items/${sku}`;
  const count = fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.constant(0));
  await fc.assert(
    fc.asyncProperty(
      bodyFor({ name: validName, priceCents: count, available: count }),
      async (body) => {
        // State is read before each run, so a replay while shrinking compares the right thing.
        const before = await api.get(path);
        const res = await send('PUT', path, body, adminToken);
        checkAnswer(res, body, itemFields, before.status === 404 ? [201] : [200]);
        const after = await api.get(path);
        if (res.status >= 400) {
          expect({ status: after.status, body: after.body }).toEqual({
            status: before.status,
            body: before.body,
          });
        } else {
          const { name, priceCents, available } = body as Record<string, unknown>;
          expect(after.body).toEqual({ sku, name, priceCents, available });
          expect(res.body).toEqual(after.body);
        }
      },
    ),
    options(),
  );
}, 120_000);

/** A user's balance and the id of their newest ledger entry. */
async function ledgerState(token: string) {
  const account = await api.get('/accounts/me', { token });
  const ledger = await api.get('/accounts/me/transactions?limit=1', { token });
  return { balance: account.body.balanceCents as number, newest: ledger.body.items[0]?.id };
}

test('POST /accounts/me/deposits', async () => {
  const user = await api.newUser('prop-deposit');
  const amount = fc.oneof(
    fc.integer({ min: 1, max: 100_000_000 }),
    fc.integer({ min: -1_000_000, max: 0 }),
    fc.integer({ min: 100_000_001, max: Number.MAX_SAFE_INTEGER }),
    fc.double({ min: -1e9, max: 1e9 }),
    oddString,
    wrong,
  );
  await fc.assert(
    fc.asyncProperty(bodyFor({ amountCents: amount }), async (body) => {
      const before = await ledgerState(user.token);
      const res = await send('POST', '/accounts/me/deposits', body, user.token);
      checkAnswer(res, body, depositBody, [201]);
      const after = await ledgerState(user.token);
      if (res.status >= 400) {
        expect(after).toEqual(before);
      } else {
        const expected = before.balance + (body as { amountCents: number }).amountCents;
        expect(res.body.balanceCents).toBe(expected);
        expect(after.balance).toBe(expected);
        expect(after.newest).not.toBe(before.newest);
      }
    }),
    options(),
  );
}, 120_000);

test('POST /orders', async () => {
  const user = await api.newUser('prop-order');
  await api.deposit(user.token, 10_000_000);
  const skus = [uniqueSku('PA'), uniqueSku('PB')];
  for (const sku of skus) await api.stock(adminToken, sku, 7, 100_000);
  const state = async () => {
    const latest = await api.get('/orders?limit=1', { token: user.token });
    const stock: Record<string, number> = {};
    for (const sku of skus) stock[sku] = (await api.get(`/inventory/items/${sku}`)).body.available;
    return { ...(await ledgerState(user.token)), newestOrder: latest.body.items[0]?.id, stock };
  };
  const goodLine = fc.record({
    sku: fc.oneof(fc.constantFrom(...skus), fc.stringMatching(/^[A-Z]{1,3}$/)),
    qty: fc.integer({ min: 1, max: 100 }),
  });
  const anyLine = fc.record(
    {
      sku: fc.oneof(fc.constantFrom(...skus), oddString, wrong),
      qty: fc.oneof(fc.integer({ min: -5, max: 200 }), wrong),
    },
    { requiredKeys: [] },
  );
  const items = fc.oneof(
    { weight: 3, arbitrary: fc.uniqueArray(goodLine, { selector: (l) => l.sku, maxLength: 3 }) },
    { weight: 1, arbitrary: fc.array(goodLine, { minLength: 18, maxLength: 22 }) },
    { weight: 2, arbitrary: fc.array(fc.oneof(goodLine, anyLine), { maxLength: 4 }) },
    { weight: 1, arbitrary: wrong },
  );

  await fc.assert(
    fc.asyncProperty(bodyFor({ items }), async (body) => {
      const before = await state();
      const res = await send('POST', '/orders', body, user.token);
      checkAnswer(res, body, orderBody, [201, 202]);
      if (res.status >= 400) {
        expect(await state()).toEqual(before);
        return;
      }
      expect(res.body.userId).toBe(user.id);
      const order = res.status === 202 ? await api.settled(user.token, res.body.id) : res.body;
      const expected = structuredClone(before);
      expected.newestOrder = order.id;
      if (order.status === 'CONFIRMED') {
        expected.balance -= order.totalCents;
        for (const l of order.items) expected.stock[l.sku] = expected.stock[l.sku]! - l.qty;
      }
      const after = await state();
      expect({ ...after, newest: undefined }).toEqual({ ...expected, newest: undefined });
      if (order.status === 'CONFIRMED') expect(after.newest).not.toBe(before.newest);
      else expect(after.newest).toBe(before.newest);
    }),
    options(),
  );
}, 120_000);
