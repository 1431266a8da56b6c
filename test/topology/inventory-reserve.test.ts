import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection, ServiceError } from 'nats';
import postgres from 'postgres';
import type { SerializedError } from '../../src/errors.ts';
import { actionSubject } from '../../src/transport/subjects.ts';
import { decodeBody, encodeCall } from '../../src/transport/wire.ts';
import { createDatabase } from '../support/database.ts';
import { deleteEventStream, natsUrl } from '../support/nats.ts';
import { type NodeProcess, spawnNode } from '../support/process.ts';
import { jwtSecret } from '../support/target.ts';

/**
 * The inventory module's order-path actions, called over NATS as the order module calls them:
 * all lines or none, one effect per order however often and however concurrently it is asked.
 */
const prefix = `r${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const cwd = mkdtempSync(join(tmpdir(), 'bunshop-reserve-'));
let db: Awaited<ReturnType<typeof createDatabase>>;
let sql: postgres.Sql;
let node: NodeProcess;
let nc: NatsConnection;

beforeAll(async () => {
  db = await createDatabase();
  node = await spawnNode(
    {
      DATABASE_URL: db.url,
      JWT_SECRET: jwtSecret,
      TRANSPORT: 'nats',
      SUBJECT_PREFIX: prefix,
      MODULES: 'inventory',
      NODE_ID: `${prefix}-inventory`,
    },
    60_000,
    cwd,
  );
  nc = await connect({ servers: natsUrl });
  sql = postgres(db.url, { max: 2, onnotice: () => {} });
}, 90_000);

afterAll(async () => {
  await nc?.drain();
  node?.proc.kill('SIGTERM');
  await node?.exited;
  await sql?.end();
  await deleteEventStream(prefix);
  await db?.drop();
  rmSync(cwd, { recursive: true, force: true });
});

type Answer = { ok: true; value: { status: string } } | { ok: false; error: SerializedError };

/** One call as the order module makes it: a system caller, a deadline, the JSON input. */
async function call(action: string, input: unknown): Promise<Answer> {
  const ctx = {
    deadline: Date.now() + 10_000,
    requestId: crypto.randomUUID(),
    caller: { kind: 'system' as const, module: 'order' },
  };
  const reply = await nc.request(
    actionSubject(prefix, 'inventory', action),
    encodeCall(ctx, input),
    { timeout: 10_000 },
  );
  const body = decodeBody(reply.data);
  return ServiceError.isServiceError(reply)
    ? { ok: false, error: body as SerializedError }
    : { ok: true, value: body as { status: string } };
}

let n = 0;
async function item(available: number): Promise<string> {
  const sku = `RSV-${++n}-${prefix}`;
  await sql`insert into inventory.items (sku, name, price_cents, available)
            values (${sku}, ${sku}, 100, ${available})`;
  return sku;
}

async function counts(sku: string) {
  const [row] = await sql`select available, reserved, sold from inventory.items where sku = ${sku}`;
  return {
    available: Number(row!.available),
    reserved: Number(row!.reserved),
    sold: Number(row!.sold),
  };
}

describe('inventory.reserve over NATS', () => {
  test('all lines or none: one short line takes nothing, names the sku, and answers the same again', async () => {
    const [plenty, scarce] = [await item(10), await item(1)];
    const orderId = crypto.randomUUID();
    const lines = [
      { sku: plenty, qty: 3 },
      { sku: scarce, qty: 2 },
    ];
    for (let attempt = 0; attempt < 2; attempt++) {
      const answer = await call('reserve', { orderId, lines });
      expect(answer.ok).toBe(false);
      if (!answer.ok) expect(answer.error).toMatchObject({ details: { reason: 'out_of_stock' } });
    }
    expect(await counts(plenty)).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await counts(scarce)).toEqual({ available: 1, reserved: 0, sold: 0 });
    const [row] =
      await sql`select status, reason from inventory.reservations where order_id = ${orderId}`;
    expect(row).toEqual({ status: 'rejected', reason: 'out_of_stock' });
  });

  test('the first rejection names the short sku; a one-line order is rejected as a longer one is', async () => {
    const scarce = await item(1);
    const orderId = crypto.randomUUID();
    for (let attempt = 0; attempt < 2; attempt++) {
      const answer = await call('reserve', { orderId, lines: [{ sku: scarce, qty: 2 }] });
      expect(answer.ok).toBe(false);
      if (!answer.ok) expect(answer.error).toMatchObject({ details: { reason: 'out_of_stock' } });
      if (!answer.ok && attempt === 0) expect(answer.error.message).toContain(scarce);
    }
    expect(await counts(scarce)).toEqual({ available: 1, reserved: 0, sold: 0 });
    const [row] =
      await sql`select status, reason from inventory.reservations where order_id = ${orderId}`;
    expect(row).toEqual({ status: 'rejected', reason: 'out_of_stock' });
  });

  test('concurrent reserves of a one-line order (one statement) take its stock once', async () => {
    const sku = await item(10);
    await Promise.all(Array.from({ length: 20 }, () => call('getItem', { sku })));
    const orders = Array.from({ length: 5 }, () => crypto.randomUUID());
    for (const orderId of orders) {
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => call('reserve', { orderId, lines: [{ sku, qty: 2 }] })),
      );
      for (const answer of answers)
        expect(answer).toEqual({ ok: true, value: { status: 'reserved' } });
    }
    expect(await counts(sku)).toEqual({ available: 0, reserved: 10, sold: 0 });
    const [recorded] = await sql`select count(*)::int as lines, sum(qty)::int as units
                                 from inventory.reservation_lines where sku = ${sku}`;
    expect(recorded).toEqual({ lines: 5, units: 10 });
    // The stock is gone now: a sixth order is rejected, and takes nothing.
    const sixth = await call('reserve', { orderId: crypto.randomUUID(), lines: [{ sku, qty: 1 }] });
    expect(sixth.ok).toBe(false);
    expect(await counts(sku)).toEqual({ available: 0, reserved: 10, sold: 0 });
  });

  test('concurrent reserves of one order take its stock once, and all say reserved', async () => {
    const [a, b] = [await item(100), await item(100)];
    // Open the node's whole pool first, so that the reserves below really meet in Postgres.
    await Promise.all(Array.from({ length: 20 }, () => call('getItem', { sku: a })));
    const lines = [
      { sku: b, qty: 2 },
      { sku: a, qty: 1 },
    ];
    const orders = Array.from({ length: 5 }, () => crypto.randomUUID());
    for (const orderId of orders) {
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => call('reserve', { orderId, lines })),
      );
      for (const answer of answers)
        expect(answer).toEqual({ ok: true, value: { status: 'reserved' } });
    }
    expect(await counts(a)).toEqual({ available: 95, reserved: 5, sold: 0 });
    expect(await counts(b)).toEqual({ available: 90, reserved: 10, sold: 0 });
    const [recorded] = await sql`select count(*)::int as lines from inventory.reservation_lines
                                 where sku in (${a}, ${b})`;
    expect(recorded?.lines).toBe(10);

    // Each committed twice: sold once.
    for (const orderId of orders) {
      for (let i = 0; i < 2; i++) {
        expect(await call('commit', { orderId })).toEqual({
          ok: true,
          value: { status: 'committed' },
        });
      }
    }
    expect(await counts(a)).toEqual({ available: 95, reserved: 0, sold: 5 });
    expect(await counts(b)).toEqual({ available: 90, reserved: 0, sold: 10 });
  });

  test('commits of orders sharing skus, and releases racing them, keep every unit counted', async () => {
    const skus = [await item(100), await item(100), await item(100)];
    await Promise.all(Array.from({ length: 20 }, () => call('getItem', { sku: skus[0] })));
    const orders = Array.from({ length: 12 }, (_, i) => ({
      orderId: crypto.randomUUID(),
      // Every order takes all three skus, listed in a different order each time.
      lines: [0, 1, 2].map((k) => ({ sku: skus[(i + k) % 3]!, qty: 1 + ((i + k) % 2) })),
    }));
    for (const o of orders) {
      expect(await call('reserve', o)).toEqual({ ok: true, value: { status: 'reserved' } });
    }
    const raced = new Set(orders.slice(0, 6).map((o) => o.orderId));
    const answers = await Promise.all(
      orders.flatMap((o) => [
        call('commit', { orderId: o.orderId }).then((a) => ({ o, action: 'commit', a })),
        ...(raced.has(o.orderId)
          ? [call('release', { orderId: o.orderId }).then((a) => ({ o, action: 'release', a }))]
          : []),
      ]),
    );
    const soldUnits = new Map<string, number>();
    for (const { o, action, a } of answers) {
      // Each of the pair either won or was refused as a conflict: nothing else, no 5xx.
      if (!a.ok) expect({ action, code: a.error.code }).toEqual({ action, code: 'conflict' });
      if (action === 'commit' && a.ok) {
        for (const l of o.lines) soldUnits.set(l.sku, (soldUnits.get(l.sku) ?? 0) + l.qty);
      }
    }
    for (const o of orders) {
      const wins = answers.filter((x) => x.o === o && x.a.ok).map((x) => x.action);
      expect(wins.length).toBe(1);
      const [row] =
        await sql`select status from inventory.reservations where order_id = ${o.orderId}`;
      expect(row?.status).toBe(wins[0] === 'commit' ? 'committed' : 'released');
    }
    for (const sku of skus) {
      const c = await counts(sku);
      expect({ sku, ...c }).toEqual({
        sku,
        available: 100 - (soldUnits.get(sku) ?? 0),
        reserved: 0,
        sold: soldUnits.get(sku) ?? 0,
      });
    }
  });

  test('a release that comes first leaves a tombstone: the late reserve takes nothing', async () => {
    const sku = await item(5);
    const orderId = crypto.randomUUID();
    expect(await call('release', { orderId })).toEqual({ ok: true, value: { status: 'released' } });
    const late = await call('reserve', { orderId, lines: [{ sku, qty: 1 }] });
    expect(late.ok).toBe(false);
    if (!late.ok) expect(late.error.code).toBe('conflict');
    expect(await counts(sku)).toEqual({ available: 5, reserved: 0, sold: 0 });
  });

  test('a reservation released after reserving puts its stock back; a commit then is refused', async () => {
    const sku = await item(5);
    const orderId = crypto.randomUUID();
    expect(await call('reserve', { orderId, lines: [{ sku, qty: 2 }] })).toEqual({
      ok: true,
      value: { status: 'reserved' },
    });
    expect(await call('release', { orderId })).toEqual({ ok: true, value: { status: 'released' } });
    expect(await counts(sku)).toEqual({ available: 5, reserved: 0, sold: 0 });
    const commit = await call('commit', { orderId });
    expect(commit.ok).toBe(false);
    if (!commit.ok) expect(commit.error.code).toBe('conflict');
  });
});
