/**
 * Orders caught mid-saga: 202 PENDING, the pending cap (429) and a repeated Idempotency-Key
 * while the first request still runs (409). The saga is held still, without timing guesses,
 * by locking the item's row from a second database connection, so this suite needs Postgres:
 * embedded PGlite has one connection that only the server holds.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import type postgres from 'postgres';
import { type Client, client, isProblem, uniqueSku } from '../support/client.ts';
import { testDb } from '../support/database.ts';
import { startTarget, type Target } from '../support/target.ts';
import {
  availableOf,
  balanceOf,
  database,
  expectMoneyConsistent,
  expectOrderShape,
  type Order,
  ordersOf,
} from './orders-support.ts';

// The first request waits out its whole deadline (5 s) before answering 202.
setDefaultTimeout(60_000);

const maxPending = 2;
let target: Target;
let api: Client;
let sql: postgres.Sql;

beforeAll(async () => {
  if (testDb !== 'postgres') return;
  target = await startTarget({ MAX_PENDING_ORDERS: String(maxPending) });
  api = client(target.baseUrl);
  sql = database(target)!;
}, 60_000);
afterAll(async () => {
  await sql?.end();
  await target?.stop();
});

/** Holds a row lock on the item until released, so every reservation of it waits. */
async function holdItem(sku: string) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const done = sql.begin(async (tx) => {
    await tx`select sku from inventory.items where sku = ${sku} for update`;
    locked();
    await released;
  });
  await isLocked;
  return async () => {
    release();
    await done;
  };
}

/** Polls the caller's orders until `count` of them are PENDING; no time limit but the test's. */
async function untilPending(token: string, count: number): Promise<Order[]> {
  for (;;) {
    const pending = (await ordersOf(api, token)).filter((o) => o.status === 'PENDING');
    if (pending.length >= count) return pending;
    await Bun.sleep(20);
  }
}

describe.skipIf(testDb !== 'postgres')('an order whose saga cannot finish yet', () => {
  test('answers 202 PENDING; the cap gives 429; a repeated key gives 409; all settle', async () => {
    const admin = await api.adminToken();
    const sku = uniqueSku('HELD');
    await api.stock(admin, sku, 100, 10);
    const user = await api.newUser('pending');
    await api.deposit(user.token, 1_000);
    const key = `held-${crypto.randomUUID()}`;
    const body = { items: [{ sku, qty: 1 }] };
    const withKey = { token: user.token, headers: { 'idempotency-key': key } };

    const unlock = await holdItem(sku);
    let unlocked = false;
    try {
      const first = api.post<Order>('/orders', body, withKey);
      const [held] = await untilPending(user.token, 1);
      expectOrderShape(held!, user.id);
      expect(held!.reason).toBeUndefined();
      const read = await api.get(`/orders/${held!.id}`, { token: user.token });
      expect(read.body.status).toBe('PENDING');

      // The first request with this key has not answered yet.
      const repeat = await api.post('/orders', body, withKey);
      expect(isProblem(repeat, 409)).toBe(true);
      expect(repeat.body.type).toBe('urn:bunshop:problem:conflict');
      const otherBody = await api.post('/orders', { items: [{ sku, qty: 2 }] }, withKey);
      expect(isProblem(otherBody, 422)).toBe(true);

      // A second pending order reaches the cap; a third is refused before it is created.
      const second = api.post<Order>('/orders', body, { token: user.token });
      await untilPending(user.token, maxPending);
      const third = await api.post('/orders', body, { token: user.token });
      expect(isProblem(third, 429)).toBe(true);
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await ordersOf(api, user.token)).toHaveLength(maxPending);

      // The lock is still held, so the first request can only run out of time: 202.
      const answered = await first;
      expect(answered.status).toBe(202);
      expect(answered.body).toMatchObject({ id: held!.id, status: 'PENDING' });
      expect(answered.headers.get('location')).toBe(`/orders/${held!.id}`);

      await unlock();
      unlocked = true;
      const secondAnswer = await second;
      expect([201, 202]).toContain(secondAnswer.status);
      for (const o of await ordersOf(api, user.token)) {
        expect((await api.settled(user.token, o.id)).status).toBe('CONFIRMED');
      }
    } finally {
      if (!unlocked) await unlock();
    }

    // Once settled: the key replays the confirmed order and the cap has room again.
    const replay = await api.post<Order>('/orders', body, withKey);
    expect(replay.status).toBe(201);
    expect(replay.body.status).toBe('CONFIRMED');
    const after = await api.post<Order>('/orders', body, { token: user.token });
    expect(after.status).toBe(201);
    expect(after.body.status).toBe('CONFIRMED');
    expect(await ordersOf(api, user.token)).toHaveLength(3);
    expect(await balanceOf(api, user.token)).toBe(700);
    expect(await availableOf(api, sku)).toBe(7);
    await expectMoneyConsistent(api, user.token);
  });

  test('the cap is per user: another buyer orders while one is at the cap', async () => {
    const admin = await api.adminToken();
    const held = uniqueSku('HELD');
    const free = uniqueSku('FREE');
    await api.stock(admin, held, 100, 10);
    await api.stock(admin, free, 100, 10);
    const busy = await api.newUser('busy');
    const other = await api.newUser('other');
    await api.deposit(busy.token, 1_000);
    await api.deposit(other.token, 1_000);

    const unlock = await holdItem(held);
    const inFlight: Promise<unknown>[] = [];
    try {
      for (let i = 0; i < maxPending; i++) {
        inFlight.push(
          api.post('/orders', { items: [{ sku: held, qty: 1 }] }, { token: busy.token }),
        );
      }
      await untilPending(busy.token, maxPending);
      // The cap counts pending orders, whatever they are for.
      const refused = await api.post(
        '/orders',
        { items: [{ sku: free, qty: 1 }] },
        { token: busy.token },
      );
      expect(isProblem(refused, 429)).toBe(true);
      const fine = await api.post<Order>(
        '/orders',
        { items: [{ sku: free, qty: 1 }] },
        { token: other.token },
      );
      expect(fine.status).toBe(201);
      expect(fine.body.status).toBe('CONFIRMED');
    } finally {
      await unlock();
    }
    await Promise.all(inFlight);
    for (const o of await ordersOf(api, busy.token)) {
      expect((await api.settled(busy.token, o.id)).status).toBe('CONFIRMED');
    }
    expect(await availableOf(api, held)).toBe(10 - maxPending);
    expect(await availableOf(api, free)).toBe(9);
  });

  test('orders sent at once never pass the cap: as many are placed as it allows, the rest get 429', async () => {
    const admin = await api.adminToken();
    const held = uniqueSku('HELD');
    await api.stock(admin, held, 100, 10);
    const eager = await api.newUser('eager');
    await api.deposit(eager.token, 1_000);
    const sent = 8;
    let refused = 0;
    const unlock = await holdItem(held);
    let answers: Awaited<ReturnType<typeof api.post>>[];
    try {
      // All at once: the cap's count and the inserts race. The placed ones wait on the held item.
      const inFlight = Array.from({ length: sent }, () =>
        api
          .post('/orders', { items: [{ sku: held, qty: 1 }] }, { token: eager.token })
          .then((r) => {
            if (isProblem(r, 429)) refused++;
            return r;
          }),
      );
      while (refused < sent - maxPending) {
        expect((await ordersOf(api, eager.token)).length).toBeLessThanOrEqual(maxPending);
        await Bun.sleep(20);
      }
      expect(await ordersOf(api, eager.token)).toHaveLength(maxPending);
      await unlock();
      answers = await Promise.all(inFlight);
    } finally {
      await unlock();
    }
    expect(answers.filter((a) => isProblem(a, 429))).toHaveLength(sent - maxPending);
    const placed = await ordersOf(api, eager.token);
    expect(placed).toHaveLength(maxPending);
    for (const o of placed) expect((await api.settled(eager.token, o.id)).status).toBe('CONFIRMED');
    expect(await availableOf(api, held)).toBe(10 - maxPending);
  });
});
