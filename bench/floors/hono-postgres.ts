/**
 * The W1/W2 floor: Hono and postgres.js in one process, nothing between, on bunshop's schema.
 * W0, W1 (`GET /inventory/items/:sku`), W1a (`GET /users/me`) and W2 (`POST /orders`), answered
 * as bunshop answers. W2 is the order saga inline as plain SQL, each step its own transaction,
 * leaving the same rows as bunshop. Absent on purpose, which favours this floor: no outbox events,
 * no persisted saga state (`order.sagas`), no Idempotency-Key, no cap on pending orders and no
 * recovery (a crash or database error mid-saga leaves the order PENDING, its stock reserved).
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { verify } from 'hono/jwt';
import postgres from 'postgres';

const secret = process.env.JWT_SECRET ?? '';
if (!secret) throw new Error('Set JWT_SECRET.');
const sql = postgres(process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test', {
  max: Number(process.env.DB_POOL_SIZE ?? 10),
  max_pipeline: 1, // as bunshop: pipelining on few connections collapses under load
  fetch_types: false,
  onnotice: () => {},
  // bigint columns as numbers, like bunshop's `mode: 'number'` (amounts stay below 2^53)
  types: { bigint: { to: 20, from: [20], serialize: String, parse: Number } },
} as postgres.Options<{ bigint: postgres.PostgresType<number> }>); // max_pipeline is untyped

/**
 * One transaction on a reserved connection. Not `sql.begin`: in postgres.js 3.4.9 a BEGIN queued
 * on a busy connection skips the reservation, and under load it fails with UNSAFE_TRANSACTION or
 * lets other requests' queries into the transaction (porsager/postgres#823, PR #1207).
 */
async function transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
  const tx = await sql.reserve();
  try {
    await tx`begin`;
    const result = await fn(tx).catch(async (err) => {
      await tx`rollback`.catch(() => {});
      throw err;
    });
    await tx`commit`;
    return result;
  } finally {
    tx.release();
  }
}
type Tx = Awaited<ReturnType<typeof sql.reserve>>;

/** RFC 9457 problems, as bunshop types them (`urn:bunshop:problem:<kind>`). */
const kinds = {
  400: ['validation', 'Invalid request'],
  401: ['unauthorized', 'Authentication required'],
  404: ['not-found', 'Not found'],
  413: ['payload-too-large', 'Payload too large'],
  415: ['unsupported-media-type', 'Unsupported media type'],
  422: ['unprocessable', 'Unprocessable request'],
  500: ['internal', 'Internal error'],
} as const;
type FieldErrors = { path: string; message: string }[];
class Problem extends Error {
  constructor(
    readonly status: keyof typeof kinds,
    detail: string,
    readonly errors?: FieldErrors,
  ) {
    super(detail);
  }
}
const unauthorized = () => new Problem(401, 'The access token is missing, invalid or expired.');
const invalid = (path: string, message: string) =>
  new Problem(400, 'The request body is not valid.', [{ path, message }]);
/** Thrown inside the reserve transaction to roll it back. */
class OutOfStock extends Error {}

const skuPattern = /^(?!\.\.?$)[A-Za-z0-9._-]{1,64}$/;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Env = { Variables: { userId: string } };
const app = new Hono<Env>();

app.onError((err, c) => {
  const p = err instanceof Problem ? err : new Problem(500, 'An unexpected error occurred.');
  if (p.status === 500) console.error(err);
  if (p.status === 401) c.header('www-authenticate', 'Bearer');
  const [kind, title] = kinds[p.status];
  const errors = p.errors ?? (p.status === 400 ? [{ path: '', message: p.message }] : undefined);
  const body = { type: `urn:bunshop:problem:${kind}`, title, status: p.status, detail: p.message };
  return c.body(JSON.stringify(errors ? { ...body, errors } : body), p.status, {
    'content-type': 'application/problem+json',
    'cache-control': 'no-store',
  });
});
app.notFound(() => {
  throw new Problem(404, 'No resource at this address.');
});

/** A valid bunshop access token: HS256 pinned, iss, aud and exp required, subject a UUID. */
const auth: MiddlewareHandler<Env> = async (c, next) => {
  const token = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
  if (!token || token.length > 4096) throw unauthorized();
  const options = { alg: 'HS256', iss: 'bunshop', aud: 'bunshop-api' } as const;
  const { sub, role, exp } = await verify(token, secret, options).catch(() => {
    throw unauthorized();
  });
  if (typeof exp !== 'number' || typeof sub !== 'string' || !uuidPattern.test(sub))
    throw unauthorized();
  if (role !== 'customer' && role !== 'admin') throw unauthorized();
  c.set('userId', sub);
  await next();
};

app.get('/health/live', (c) => c.json({ status: 'ok' }));

app.get('/inventory/items/:sku', async (c) => {
  const sku = c.req.param('sku');
  if (!skuPattern.test(sku)) throw new Problem(404, `No item ${sku.slice(0, 64)}.`);
  const [item] = await sql`select sku, name, price_cents as "priceCents", available
    from inventory.items where sku = ${sku}`;
  if (!item) throw new Problem(404, `No item ${sku}.`);
  return c.json(item);
});

app.get('/users/me', auth, async (c) => {
  const [user] = await sql`select id, name, email, role, created_at as "createdAt"
    from "user".users where id = ${c.get('userId')}`;
  if (!user) throw unauthorized(); // a valid token for a user who no longer exists, as bunshop
  return c.json(user);
});

type Line = { sku: string; qty: number };
type Order = { id: string; reason: string | null; items: (Line & { unitPriceCents: number })[] };
/** An order row as bunshop answers it (Dates serialise as ISO strings). */
const order = sql`id, user_id as "userId", status, reason, items, total_cents as "totalCents",
  created_at as "createdAt", updated_at as "updatedAt"`;

/** `{ items: [{ sku, qty 1..100 }] }` with 1..20 lines and no sku twice. */
function orderLines(body: unknown): Line[] {
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) throw invalid('items', 'must be an array of { sku, qty }');
  if (items.length < 1 || items.length > 20) throw invalid('items', 'must have 1 to 20 lines');
  const lines = items.map((line: { sku?: unknown; qty?: unknown } | null, i): Line => {
    const { sku, qty } = line ?? {};
    if (typeof sku !== 'string' || !skuPattern.test(sku))
      throw invalid(`items.${i}.sku`, 'must match ^[A-Za-z0-9._-]{1,64}$');
    if (typeof qty !== 'number' || !Number.isInteger(qty) || qty < 1 || qty > 100)
      throw invalid(`items.${i}.qty`, 'must be an integer from 1 to 100');
    return { sku, qty };
  });
  if (new Set(lines.map((l) => l.sku)).size < lines.length)
    throw invalid('items', 'must not name a sku twice');
  return lines;
}

const finish = async (id: string, status: 'CONFIRMED' | 'REJECTED', reason: string | null) => {
  const [row] = await sql<Order[]>`update "order".orders
    set status = ${status}, reason = ${reason}, updated_at = now() where id = ${id} returning ${order}`;
  return row!;
};

/** Moves reserved stock back to available or on to sold, and records how the reservation ended. */
const settle = (id: string, lines: Line[], to: 'available' | 'sold') =>
  transaction(async (tx) => {
    for (const { sku, qty } of lines)
      await tx`update inventory.items
        set reserved = reserved - ${qty}, ${tx(to)} = ${tx(to)} + ${qty} where sku = ${sku}`;
    const status = to === 'sold' ? 'committed' : 'released';
    await tx`update inventory.reservations set status = ${status}, updated_at = now()
      where order_id = ${id}`;
  });

async function placeOrder(userId: string, wanted: Line[]): Promise<Order> {
  const id = Bun.randomUUIDv7();
  // Sorted, so that concurrent orders lock item rows in one order and cannot deadlock.
  const lines = [...wanted].sort((a, b) => (a.sku < b.sku ? -1 : 1));
  const priced = await sql<{ sku: string; price: number }[]>`
    select sku, price_cents as price from inventory.items where sku in ${sql(lines.map((l) => l.sku))}`;
  const prices = new Map(priced.map((p) => [p.sku, p.price]));
  const items = wanted.map((l) => ({ ...l, unitPriceCents: prices.get(l.sku) ?? 0 }));
  const total = items.reduce((sum, l) => sum + l.qty * l.unitPriceCents, 0);
  if (!Number.isSafeInteger(total)) throw new Problem(422, 'The order total is too large.');
  const unknown = prices.size < lines.length;

  // 1. The order, PENDING; REJECTED at once when a sku is unknown.
  const [created] = await sql<Order[]>`
    insert into "order".orders (id, user_id, status, reason, items, total_cents)
    values (${id}, ${userId}, ${unknown ? 'REJECTED' : 'PENDING'}, ${unknown ? 'unknown_item' : null},
            ${sql.json(items)}, ${total})
    returning ${order}`;
  if (unknown) return created!;

  // 2. Reserve with conditional updates. Items are never deleted, so a miss is out of stock.
  const reserved = await transaction(async (tx) => {
    await tx`insert into inventory.reservations (order_id, status) values (${id}, 'reserved')`;
    for (const { sku, qty } of lines) {
      const taken = await tx`update inventory.items
          set available = available - ${qty}, reserved = reserved + ${qty}
          where sku = ${sku} and available >= ${qty} returning sku`;
      if (taken.length === 0) throw new OutOfStock(sku);
      await tx`insert into inventory.reservation_lines (order_id, sku, qty)
          values (${id}, ${sku}, ${qty})`;
    }
    return true;
  }).catch((err) => (err instanceof OutOfStock ? false : Promise.reject(err)));
  if (!reserved) {
    await sql`insert into inventory.reservations (order_id, status, reason)
      values (${id}, 'rejected', 'out_of_stock')`;
    return finish(id, 'REJECTED', 'out_of_stock');
  }

  // 3. Charge: a conditional debit with its ledger entry (none for a free order), and the payment.
  const charged = await transaction(async (tx) => {
    const [debit] = total
      ? await tx<{ balance: number }[]>`update payment.accounts
          set balance_cents = balance_cents - ${total}
          where user_id = ${userId} and balance_cents >= ${total} returning balance_cents as balance`
      : [undefined];
    if (debit)
      await tx`insert into payment.ledger (id, user_id, kind, amount_cents, balance_after_cents, order_id)
        values (${Bun.randomUUIDv7()}, ${userId}, 'charge', ${-total}, ${debit.balance}, ${id})`;
    const ok = debit !== undefined || total === 0;
    await tx`insert into payment.order_payments (order_id, user_id, amount_cents, status)
      values (${id}, ${userId}, ${total}, ${ok ? 'charged' : 'rejected'})`;
    return ok;
  });
  if (!charged) {
    await settle(id, lines, 'available'); // compensate: release the stock
    return finish(id, 'REJECTED', 'insufficient_funds');
  }

  // 4. Commit the stock (reserved -> sold); 5. confirm the order.
  await settle(id, lines, 'sold');
  return finish(id, 'CONFIRMED', null);
}

const tooLarge = () => {
  throw new Problem(413, 'The request body is over 64 KiB.');
};

app.post('/orders', auth, bodyLimit({ maxSize: 64 * 1024, onError: tooLarge }), async (c) => {
  if (!/^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(c.req.header('content-type') ?? ''))
    throw new Problem(415, 'Send the body as application/json.');
  const body = await c.req.json().catch(() => {
    throw new Problem(400, 'The request body is not valid JSON.');
  });
  const placed = await placeOrder(c.get('userId'), orderLines(body));
  // `reason` only when there is one (undefined is left out of the JSON, the key keeps its place);
  // line keys in bunshop's order, as jsonb stores them sorted.
  const items = placed.items.map(({ sku, qty, unitPriceCents }) => ({ sku, qty, unitPriceCents }));
  const view = { ...placed, reason: placed.reason ?? undefined, items };
  return c.json(view, 201, { location: `/orders/${placed.id}` });
});

await sql`select 1`;
const server = Bun.serve({ port: Number(process.env.PORT ?? 3000), fetch: app.fetch });
console.log(`listening ${server.port}`);
