import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client } from '../support/client.ts';
import { createDatabase, testDb } from '../support/database.ts';
import { checkInvariants, type Shopper, summary, violations } from '../support/invariants.ts';
import { type NodeProcess, spawnNode } from '../support/process.ts';
import { admin, jwtSecret } from '../support/target.ts';

/**
 * Kills the process with SIGKILL in the middle of sagas (a test-only fault hook), restarts
 * it on the same data, and checks that every order ends CONFIRMED or REJECTED with stock
 * and money conserved and no order charged twice.
 */
let storage: { env: Record<string, string>; cleanup(): Promise<void> };

beforeAll(async () => {
  if (testDb === 'postgres') {
    const db = await createDatabase();
    storage = { env: { DATABASE_URL: db.url }, cleanup: db.drop };
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'bunshop-crash-'));
    storage = {
      env: { DATA_DIR: dir },
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
}, 60_000);
afterAll(() => storage?.cleanup());

const baseEnv = () => ({
  ...storage.env,
  JWT_SECRET: jwtSecret,
  ADMIN_EMAIL: admin.email,
  ADMIN_PASSWORD: admin.password,
  // A stable node id: the restarted node takes over the leases its previous life held.
  NODE_ID: 'crash-test-node',
});

const crashPoints = ['reserve:3', 'charge:3', 'commit:2', 'compensate-reserve:1'];

describe('crash recovery', () => {
  for (const point of crashPoints) {
    test(`SIGKILL after ${point} loses nothing and finishes every order`, async () => {
      let node: NodeProcess = await spawnNode({ ...baseEnv(), BUNSHOP_TEST_CRASH_AFTER: point });
      let api = client(node.baseUrl);
      const adminToken = await api.adminToken();
      const tag = point.replace(/[^a-z]/g, '');
      const stocked = new Map<string, number>([
        [`${tag}-A`, 6],
        [`${tag}-B`, 3],
      ]);
      for (const [sku, qty] of stocked) await api.stock(adminToken, sku, 100, qty);
      const shoppers: Shopper[] = [];
      for (let i = 0; i < 6; i++) {
        const user = await api.newUser(tag);
        // Some shoppers can afford little, so some orders are rejected and compensated.
        const depositedCents = i % 3 === 0 ? 150 : 1000;
        await api.deposit(user.token, depositedCents);
        shoppers.push({ token: user.token, depositedCents });
      }
      const acknowledged = new Set<string>();
      const attempts = shoppers.flatMap((s, i) =>
        [0, 1, 2].map((j) =>
          api
            .post(
              '/orders',
              { items: [{ sku: `${tag}-${(i + j) % 2 ? 'A' : 'B'}`, qty: 1 + (j % 2) }] },
              { token: s.token },
            )
            .then((r) => {
              if (r.status === 201 || r.status === 202) acknowledged.add(r.body.id);
            })
            .catch(() => {}),
        ),
      );
      await Promise.all(attempts);
      const code = await node.exited;
      expect(code).not.toBe(0);

      node = await spawnNode(baseEnv());
      api = client(node.baseUrl);
      try {
        const report = await checkInvariants(api, shoppers, stocked, acknowledged);
        console.log(
          summary({
            scenario: `crash-after-${point}`,
            mode: 'local',
            db: testDb,
            kills: 1,
            ...report,
          }),
        );
        expect(report.orders).toBeGreaterThan(0);
        expect(violations(report)).toBe(0);
      } finally {
        node.proc.kill('SIGTERM');
        await node.exited;
      }
    }, 120_000);
  }
});
