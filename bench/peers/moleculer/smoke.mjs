#!/usr/bin/env node
// Self-check of the Moleculer peer (or any target serving bunshop's four bench requests).
//   node smoke.mjs <baseUrl> <databaseUrl> <jwtSecret>
// (or BASE_URL, DATABASE_URL, JWT_SECRET). The database must hold bunshop's schema and the bench
// data (bench/support/seed.ts). The checks add a user, an account and two items of their own
// (removed at the end) and place a few orders as seeded users; they print
// "N passed, N failed" and exit non-zero on a failure.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import postgres from 'postgres';

const base = (process.argv[2] ?? process.env.BASE_URL ?? 'http://127.0.0.1:3000').replace(
  /\/$/,
  '',
);
const dbUrl = process.argv[3] ?? process.env.DATABASE_URL;
const secret = process.argv[4] ?? process.env.JWT_SECRET;
if (!dbUrl || !secret) {
  console.error('usage: node smoke.mjs <baseUrl> <databaseUrl> <jwtSecret>');
  process.exit(2);
}

const sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
const key = new TextEncoder().encode(secret);
let passed = 0;
let failed = 0;

function check(name, ok, detail) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok || detail === undefined ? '' : `: ${detail}`}`);
}

const seededUser = (n) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

async function token(sub, opts = {}) {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT({ role: opts.role ?? 'customer' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(opts.iss ?? 'bunshop')
    .setAudience(opts.aud ?? 'bunshop-api')
    .setIssuedAt(now)
    .setNotBefore(now);
  if (opts.exp !== null) jwt = jwt.setExpirationTime(opts.exp ?? now + 3600);
  return jwt.sign(opts.key ?? key);
}

async function call(method, path, { auth, body, raw } = {}) {
  const headers = {};
  if (auth) headers.authorization = `Bearer ${auth}`;
  if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, {
    method,
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

const isProblem = (r, status, kind) =>
  r.status === status &&
  (r.headers.get('content-type') ?? '').startsWith('application/problem+json') &&
  r.json?.status === status &&
  r.json?.type === `urn:bunshop:problem:${kind}`;

const item = async (sku) =>
  (await sql`select available, reserved, sold from inventory.items where sku = ${sku}`)[0];
const balance = async (user) =>
  (await sql`select balance_cents from payment.accounts where user_id = ${user}`)[0]?.balance_cents;

// Fixtures of its own, so the bench data is left as seeded (apart from the orders placed).
const tag = randomUUID().slice(0, 8);
const poorUser = randomUUID();
const oosSku = `SMOKE-OOS-${tag}`;
const cheapSku = `SMOKE-${tag}`;

try {
  await sql`insert into "user".users (id, name, email, email_key, password_hash, role)
    values (${poorUser}, 'Smoke', ${`smoke-${tag}@example.com`}, ${`smoke-${tag}@example.com`}, 'x', 'customer')`;
  await sql`insert into payment.accounts (user_id, balance_cents) values (${poorUser}, 50)`;
  await sql`insert into inventory.items (sku, name, price_cents, available)
    values (${oosSku}, 'Smoke none left', 100, 0), (${cheapSku}, 'Smoke', 100, 5)`;

  // W0
  {
    const r = await call('GET', '/health/live');
    check(
      'W0 GET /health/live is 200 {"status":"ok"}',
      r.status === 200 && r.json?.status === 'ok',
      r.text,
    );
  }

  // W1
  {
    const r = await call('GET', '/inventory/items/SKU-0001');
    const row = (await sql`select * from inventory.items where sku = 'SKU-0001'`)[0];
    check(
      'W1 GET /inventory/items/SKU-0001 is 200 with {sku,name,priceCents,available}',
      r.status === 200 &&
        JSON.stringify(Object.keys(r.json ?? {}).sort()) ===
          JSON.stringify(['available', 'name', 'priceCents', 'sku']) &&
        r.json.sku === 'SKU-0001' &&
        r.json.name === row.name &&
        r.json.priceCents === Number(row.price_cents) &&
        typeof r.json.available === 'number',
      r.text,
    );
    const missing = await call('GET', '/inventory/items/NO-SUCH-SKU');
    check('W1 an unknown sku is a 404 problem', isProblem(missing, 404, 'not-found'), missing.text);
    const bad = await call('GET', '/inventory/items/bad%20sku');
    check('W1 a malformed sku is a 404 problem', isProblem(bad, 404, 'not-found'), bad.text);
  }

  // W1a
  {
    const me = seededUser(1);
    const row = (await sql`select * from "user".users where id = ${me}`)[0];
    const r = await call('GET', '/users/me', { auth: await token(me) });
    check(
      'W1a GET /users/me is 200 {id,name,email,role,createdAt}',
      r.status === 200 &&
        JSON.stringify(Object.keys(r.json ?? {}).sort()) ===
          JSON.stringify(['createdAt', 'email', 'id', 'name', 'role']) &&
        r.json.id === me &&
        r.json.email === row.email &&
        r.json.role === 'customer' &&
        r.json.createdAt === row.created_at.toISOString(),
      r.text,
    );
    const none = await call('GET', '/users/me');
    check(
      'W1a no token is 401 with WWW-Authenticate: Bearer',
      isProblem(none, 401, 'unauthorized') && none.headers.get('www-authenticate') === 'Bearer',
      none.text,
    );
    const now = Math.floor(Date.now() / 1000);
    const bad = {
      'a wrong signature': await token(me, { key: new TextEncoder().encode(`${secret}x`) }),
      'an expired token': await token(me, { exp: now - 10 }),
      'no exp': await token(me, { exp: null }),
      'a wrong issuer': await token(me, { iss: 'other' }),
      'a wrong audience': await token(me, { aud: 'other' }),
      'a wrong role': await token(me, { role: 'root' }),
      'a non-uuid subject': await token('not-a-uuid'),
      'alg none': `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
        JSON.stringify({
          sub: me,
          role: 'customer',
          iss: 'bunshop',
          aud: 'bunshop-api',
          exp: now + 60,
        }),
      ).toString('base64url')}.`,
      'an unknown user': await token(randomUUID()),
    };
    for (const [what, t] of Object.entries(bad)) {
      const r2 = await call('GET', '/users/me', { auth: t });
      check(`W1a ${what} is 401`, isProblem(r2, 401, 'unauthorized'), `${r2.status} ${r2.text}`);
    }
  }

  // W2
  {
    const buyer = seededUser(2);
    const auth = await token(buyer);
    const before = { item: await item('SKU-0001'), balance: await balance(buyer) };
    const r = await call('POST', '/orders', {
      auth,
      body: { items: [{ sku: 'SKU-0001', qty: 1 }] },
    });
    const o = r.json ?? {};
    check(
      'W2 POST /orders is 201 CONFIRMED with Location and the order',
      r.status === 201 &&
        o.status === 'CONFIRMED' &&
        o.reason === undefined &&
        o.userId === buyer &&
        o.totalCents === 100 &&
        Array.isArray(o.items) &&
        o.items.length === 1 &&
        o.items[0].sku === 'SKU-0001' &&
        o.items[0].qty === 1 &&
        o.items[0].unitPriceCents === 100 &&
        typeof o.createdAt === 'string' &&
        typeof o.updatedAt === 'string' &&
        r.headers.get('location') === `/orders/${o.id}`,
      `${r.status} ${r.text}`,
    );
    if (o.id) {
      const [order] = await sql`select * from "order".orders where id = ${o.id}`;
      const [res] = await sql`select * from inventory.reservations where order_id = ${o.id}`;
      const lines = await sql`select * from inventory.reservation_lines where order_id = ${o.id}`;
      const [pay] = await sql`select * from payment.order_payments where order_id = ${o.id}`;
      const ledger = await sql`select * from payment.ledger where order_id = ${o.id}`;
      const after = { item: await item('SKU-0001'), balance: await balance(buyer) };
      check(
        'W2 the order row is CONFIRMED',
        order?.status === 'CONFIRMED' && Number(order.total_cents) === 100,
      );
      check(
        'W2 the reservation is committed with its line',
        res?.status === 'committed' && lines.length === 1 && lines[0].qty === 1,
      );
      check(
        'W2 the stock moved from available to sold (reserved back where it was)',
        Number(after.item.sold) - Number(before.item.sold) >= 1 &&
          Number(after.item.reserved) === Number(before.item.reserved) &&
          Number(before.item.available) - Number(after.item.available) >= 1,
        JSON.stringify({ before, after }),
      );
      check(
        'W2 one charge in the ledger, order_payments charged, balance debited',
        ledger.length === 1 &&
          ledger[0].kind === 'charge' &&
          Number(ledger[0].amount_cents) === -100 &&
          Number(ledger[0].balance_after_cents) === Number(after.balance) &&
          pay?.status === 'charged' &&
          Number(before.balance) - Number(after.balance) >= 100,
      );
    }

    // out of stock: REJECTED, nothing held or charged
    {
      const r2 = await call('POST', '/orders', {
        auth,
        body: { items: [{ sku: oosSku, qty: 1 }] },
      });
      const [res] = r2.json?.id
        ? await sql`select * from inventory.reservations where order_id = ${r2.json.id}`
        : [];
      const charged = r2.json?.id
        ? await sql`select * from payment.ledger where order_id = ${r2.json.id}`
        : [];
      const it = await item(oosSku);
      check(
        'W2 out of stock is 201 REJECTED out_of_stock, nothing held or charged',
        r2.status === 201 &&
          r2.json?.status === 'REJECTED' &&
          r2.json?.reason === 'out_of_stock' &&
          res?.status !== 'reserved' &&
          charged.length === 0 &&
          Number(it.reserved) === 0 &&
          Number(it.available) === 0,
        `${r2.status} ${r2.text}`,
      );
    }

    // insufficient funds: REJECTED, the stock is released (compensation)
    {
      const poor = await token(poorUser);
      const r3 = await call('POST', '/orders', {
        auth: poor,
        body: { items: [{ sku: cheapSku, qty: 1 }] },
      });
      const id = r3.json?.id;
      const [res] = id
        ? await sql`select * from inventory.reservations where order_id = ${id}`
        : [];
      const [pay] = id
        ? await sql`select * from payment.order_payments where order_id = ${id}`
        : [];
      const it = await item(cheapSku);
      check(
        'W2 insufficient funds is 201 REJECTED insufficient_funds, stock released',
        r3.status === 201 &&
          r3.json?.status === 'REJECTED' &&
          r3.json?.reason === 'insufficient_funds' &&
          res?.status === 'released' &&
          pay?.status !== 'charged' &&
          Number(it.available) === 5 &&
          Number(it.reserved) === 0 &&
          Number(it.sold) === 0 &&
          Number(await balance(poorUser)) === 50,
        `${r3.status} ${r3.text} ${JSON.stringify({ res, pay, it })}`,
      );
    }

    // unknown sku
    {
      const r4 = await call('POST', '/orders', {
        auth,
        body: { items: [{ sku: `NO-${tag}`, qty: 1 }] },
      });
      check(
        'W2 an unknown sku is 201 REJECTED unknown_item',
        r4.status === 201 && r4.json?.status === 'REJECTED' && r4.json?.reason === 'unknown_item',
        `${r4.status} ${r4.text}`,
      );
    }

    // invalid bodies and no token
    const invalid = {
      'no lines': { items: [] },
      'qty 0': { items: [{ sku: 'SKU-0001', qty: 0 }] },
      'qty 1.5': { items: [{ sku: 'SKU-0001', qty: 1.5 }] },
      'a sku twice': {
        items: [
          { sku: 'SKU-0001', qty: 1 },
          { sku: 'SKU-0001', qty: 1 },
        ],
      },
      'no items': {},
    };
    for (const [what, body] of Object.entries(invalid)) {
      const r5 = await call('POST', '/orders', { auth, body });
      check(
        `W2 ${what} is a 400 problem with errors[]`,
        isProblem(r5, 400, 'validation') && Array.isArray(r5.json.errors),
        `${r5.status} ${r5.text}`,
      );
    }
    const r6 = await call('POST', '/orders', { auth, raw: '{"items":' });
    check(
      'W2 malformed JSON is a 400 problem',
      isProblem(r6, 400, 'validation'),
      `${r6.status} ${r6.text}`,
    );
    const r7 = await call('POST', '/orders', { body: { items: [{ sku: 'SKU-0001', qty: 1 }] } });
    check('W2 no token is 401', isProblem(r7, 401, 'unauthorized'), `${r7.status} ${r7.text}`);

    // a burst of concurrent orders over several users and skus
    {
      const n = 60;
      const skus = ['SKU-0101', 'SKU-0102', 'SKU-0103'];
      const sold0 = await Promise.all(skus.map(async (s) => Number((await item(s)).sold)));
      const auths = await Promise.all(
        Array.from({ length: 10 }, (_, i) => token(seededUser(100 + i))),
      );
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          call('POST', '/orders', {
            auth: auths[i % auths.length],
            body: {
              items: [
                { sku: skus[i % 3], qty: 1 },
                { sku: skus[(i + 1) % 3], qty: 2 },
              ],
            },
          }),
        ),
      );
      const confirmed = results.filter(
        (x) => x.status === 201 && x.json?.status === 'CONFIRMED',
      ).length;
      const sold1 = await Promise.all(skus.map(async (s) => Number((await item(s)).sold)));
      const soldDelta = sold1.reduce((a, b) => a + b, 0) - sold0.reduce((a, b) => a + b, 0);
      check(
        `W2 ${n} concurrent orders all CONFIRMED and ${n * 3} units sold`,
        confirmed === n && soldDelta === n * 3,
        `${confirmed} confirmed, ${soldDelta} sold, statuses ${[...new Set(results.map((x) => x.status))]}`,
      );
    }
  }

  // an unknown path
  {
    const r = await call('GET', '/no/such/path');
    check('an unknown path is a 404 problem', isProblem(r, 404, 'not-found'), r.text);
  }
} catch (err) {
  check('the smoke run finished', false, err?.stack ?? String(err));
} finally {
  // Remove the fixtures and the rows of the orders that used them.
  const ids = (
    await sql`select id from "order".orders where user_id = ${poorUser}
     or items @> ${sql.json([{ sku: oosSku }])} or items @> ${sql.json([{ sku: cheapSku }])}`
  ).map((r) => r.id);
  if (ids.length) {
    await sql`delete from inventory.reservation_lines where order_id in ${sql(ids)}`;
    await sql`delete from inventory.reservations where order_id in ${sql(ids)}`;
    await sql`delete from payment.order_payments where order_id in ${sql(ids)}`;
    await sql`delete from payment.ledger where order_id in ${sql(ids)}`;
    await sql`delete from "order".orders where id in ${sql(ids)}`;
  }
  await sql`delete from payment.accounts where user_id = ${poorUser}`;
  await sql`delete from "user".users where id = ${poorUser}`;
  await sql`delete from inventory.items where sku in ${sql([oosSku, cheapSku])}`;
  await sql.end();
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
