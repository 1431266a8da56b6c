import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type Client, client, isProblem } from '../support/client.ts';
import { startTarget, type Target } from '../support/target.ts';

let target: Target;
let api: Client;
let admin: string;
/** This suite's items, keyed by sku: the prefix keeps them apart from other suites' items. */
const mine = new Map<
  string,
  { sku: string; name: string; priceCents: number; available: number }
>();
const prefix = `PG${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

beforeAll(async () => {
  target = await startTarget();
  api = client(target.baseUrl);
  admin = await api.adminToken();
  // 105 numbered items plus skus whose byte order differs from a locale's order.
  const skus = Array.from({ length: 105 }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
  skus.push(
    `${prefix}-A`,
    `${prefix}-a`,
    `${prefix}-_`,
    `${prefix}-.`,
    `${prefix}--`,
    `${prefix}_Z`,
  );
  skus.sort(() => Math.random() - 0.5);
  for (let i = 0; i < skus.length; i += 20) {
    const batch = skus.slice(i, i + 20);
    const stocked = await Promise.all(
      batch.map((sku, j) => api.stock(admin, sku, 100 + i + j, (i + j) % 7)),
    );
    for (const item of stocked) mine.set(item.sku, item);
  }
}, 60_000);
afterAll(() => target?.stop());

type Page = { items: { sku: string }[]; nextCursor: string | null };
const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const withCursor = (path: string, cursor: string) =>
  `${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`;

/** Follows nextCursor from the first page to the last, returning every page. */
async function walk(path: string, token?: string): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const url: string = cursor ? withCursor(path, cursor) : path;
    const res = await api.get<Page>(url, { token });
    expect(res.status).toBe(200);
    pages.push(res.body);
    cursor = res.body.nextCursor;
    expect(pages.length).toBeLessThan(1000);
  } while (cursor);
  return pages;
}

const badLimits = ['0', '101', '-1', 'abc', '1.5', '', '1e1', '0x10', ' 5', '1000', "1' OR '1'='1"];
const paths = (reply: { body: { errors?: { path: string }[] } }) =>
  (reply.body.errors ?? []).map((e) => e.path);

describe('GET /inventory/items', () => {
  for (const limit of [1, 7, 20, 100, undefined]) {
    test(`limit ${limit ?? 'default'}: every item once, in sku order, full pages until the last`, async () => {
      const pages = await walk(limit ? `/inventory/items?limit=${limit}` : '/inventory/items');
      const size = limit ?? 20;
      for (const page of pages.slice(0, -1)) {
        expect(page.items.length).toBe(size);
        expect(typeof page.nextCursor).toBe('string');
      }
      expect(pages.at(-1)!.nextCursor).toBeNull();
      expect(pages.at(-1)!.items.length).toBeGreaterThanOrEqual(1);
      expect(pages.at(-1)!.items.length).toBeLessThanOrEqual(size);
      const all = pages.flatMap((p) => p.items);
      const skus = all.map((i) => i.sku);
      // Strictly ascending in byte order: sorted and no sku twice.
      expect(skus).toEqual([...new Set(skus)].sort(byteOrder));
      const seen = all.filter((i) => i.sku.startsWith(prefix));
      expect(seen.map((i) => i.sku)).toEqual([...mine.keys()].sort(byteOrder));
      for (const item of seen) expect(item).toEqual(mine.get(item.sku)!);
    });
  }

  test('the default page is 20 items and 100 is the largest', async () => {
    const first = await api.get<Page>('/inventory/items');
    expect(first.body.items.length).toBe(20);
    expect(typeof first.body.nextCursor).toBe('string');
    const big = await api.get<Page>('/inventory/items?limit=100');
    expect(big.body.items.length).toBe(100);
    expect(big.body.items.slice(0, 20)).toEqual(first.body.items);
  });

  test('a cursor can be used again and gives the same page', async () => {
    const first = await api.get<Page>('/inventory/items?limit=5');
    const cursor = first.body.nextCursor!;
    const a = await api.get<Page>(withCursor('/inventory/items?limit=5', cursor));
    const b = await api.get<Page>(withCursor('/inventory/items?limit=5', cursor));
    expect(a.status).toBe(200);
    expect(a.body).toEqual(b.body);
    expect(byteOrder(first.body.items.at(-1)!.sku, a.body.items[0]!.sku)).toBe(-1);
  });

  test('an item added before the cursor position is neither repeated nor skipped after it', async () => {
    const first = await api.get<Page>(`/inventory/items?limit=3`);
    const last = first.body.items.at(-1)!.sku;
    const early = `${'0'.repeat(3)}${prefix}`;
    expect(byteOrder(early, last)).toBe(-1);
    await api.stock(admin, early, 1, 1);
    const next = await api.get<Page>(
      withCursor('/inventory/items?limit=3', first.body.nextCursor!),
    );
    expect(next.body.items.map((i) => i.sku)).not.toContain(early);
    expect(byteOrder(last, next.body.items[0]!.sku)).toBe(-1);
    expect((await api.get<Page>('/inventory/items?limit=1')).body.items[0]!.sku <= early).toBe(
      true,
    );
  });

  test('a limit outside 1..100 or not a whole number is 400 naming limit', async () => {
    for (const limit of badLimits) {
      const res = await api.get(`/inventory/items?limit=${encodeURIComponent(limit)}`);
      expect({ limit, ok: isProblem(res, 400) }).toEqual({ limit, ok: true });
      expect(paths(res)).toContain('limit');
    }
  });

  test('a cursor the server did not issue for this list is 400 naming cursor', async () => {
    const real = (await api.get<Page>('/inventory/items?limit=2')).body.nextCursor!;
    const other = (await api.get<Page>('/inventory/items?limit=3')).body.nextCursor!;
    const [body, mac] = real.split('.') as [string, string];
    const forgedBody = Buffer.from(JSON.stringify(['items', prefix])).toString('base64url');
    const user = await api.newUser('cursor');
    for (let i = 0; i < 3; i++) await api.deposit(user.token, 10);
    const ledgerCursor = (
      await api.get<Page>('/accounts/me/transactions?limit=1', { token: user.token })
    ).body.nextCursor!;
    const flipped = `${body}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`;
    const bad = [
      'abc',
      'not.a.cursor',
      '',
      `${forgedBody}.${'A'.repeat(22)}`,
      `${forgedBody}.${mac}`,
      flipped,
      `${real}.x`,
      `${real}.${mac}`,
      `${body}.${other.split('.')[1]}`,
      `${body}.`,
      `.${mac}`,
      ledgerCursor,
      real.repeat(10),
      "' OR 1=1 --",
      `${real}'; DROP TABLE inventory.items; --`,
    ];
    for (const cursor of bad) {
      const res = await api.get(withCursor('/inventory/items', cursor));
      expect({ cursor, ok: isProblem(res, 400) }).toEqual({ cursor, ok: true });
      expect(paths(res)).toContain('cursor');
    }
    expect((await api.get(withCursor('/inventory/items?limit=2', real))).status).toBe(200);
  });
});

describe('GET /accounts/me/transactions', () => {
  let user: { id: string; token: string };
  beforeAll(async () => {
    user = await api.newUser('pages');
    // Sequential, so that amount n is the n-th newest from the end.
    for (let amount = 1; amount <= 25; amount++) await api.deposit(user.token, amount);
  }, 30_000);
  const amounts = (pages: Page[]) =>
    pages.flatMap((p) => p.items.map((i) => (i as unknown as { amountCents: number }).amountCents));
  const newestFirst = Array.from({ length: 25 }, (_, i) => 25 - i);

  test('default limit 20: the 20 newest, then the rest with nextCursor null', async () => {
    const pages = await walk('/accounts/me/transactions', user.token);
    expect(pages.map((p) => p.items.length)).toEqual([20, 5]);
    expect(pages[1]!.nextCursor).toBeNull();
    expect(amounts(pages)).toEqual(newestFirst);
  });

  for (const limit of [1, 3, 25, 100]) {
    test(`limit ${limit}: every entry once, newest first`, async () => {
      const pages = await walk(`/accounts/me/transactions?limit=${limit}`, user.token);
      expect(pages.length).toBe(Math.ceil(25 / limit));
      for (const page of pages.slice(0, -1)) expect(page.items.length).toBe(limit);
      expect(pages.at(-1)!.nextCursor).toBeNull();
      expect(amounts(pages)).toEqual(newestFirst);
    });
  }

  test('a bad limit is 400 naming limit', async () => {
    for (const limit of badLimits) {
      const res = await api.get(`/accounts/me/transactions?limit=${encodeURIComponent(limit)}`, {
        token: user.token,
      });
      expect({ limit, ok: isProblem(res, 400) }).toEqual({ limit, ok: true });
      expect(paths(res)).toContain('limit');
    }
  });

  test("another list's cursor, another user's ledger cursor or a forged one is 400", async () => {
    const own = (await api.get<Page>('/accounts/me/transactions?limit=2', { token: user.token }))
      .body.nextCursor!;
    const itemsCursor = (await api.get<Page>('/inventory/items?limit=2')).body.nextCursor!;
    const [, mac] = own.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify(['ledger', 'ffffffff-ffff-7fff-bfff-ffffffffffff']));
    const other = await api.newUser('other');
    for (const cursor of [itemsCursor, own, `${forged.toString('base64url')}.${mac}`, 'x.y']) {
      const res = await api.get(withCursor('/accounts/me/transactions', cursor), {
        token: other.token,
      });
      expect({ cursor, ok: isProblem(res, 400) }).toEqual({ cursor, ok: true });
      expect(paths(res)).toContain('cursor');
    }
    const mineAgain = await api.get(withCursor('/accounts/me/transactions?limit=2', own), {
      token: user.token,
    });
    expect(mineAgain.status).toBe(200);
    expect(amounts([mineAgain.body])).toEqual([23, 22]);
  });
});
