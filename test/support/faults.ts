import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { options } from '../../src/options.ts';
import { type Client, client } from './client.ts';
import { createDatabase } from './database.ts';
import { checkInvariants, type Report, type Shopper, summary, violations } from './invariants.ts';
import { deleteEventStream } from './nats.ts';
import { type NodeProcess, spawnNode } from './process.ts';
import { admin, jwtSecret } from './target.ts';
import { roles, startTopology, type Topology } from './topology.ts';

/** RELIABILITY.md, I4: every order is final this long after the last fault healed. */
export const settleBoundMs = 30_000;

/** Whether the build knows SAGA_LEASE_MS; without it the order module's lease is fixed at 30 s. */
export const sagaLeaseConfigurable = Object.values(options).some((o) => o.env === 'SAGA_LEASE_MS');

/** A six-process topology on a fresh database, seeded with stock and shoppers, and its cleanup. */
export interface Rig {
  topology: Topology;
  api: Client;
  sql: postgres.Sql;
  shoppers: Shopper[];
  stocked: Map<string, number>;
  /** Every node process started, the dead ones included (for their logs). */
  all: NodeProcess[];
  /** Starts a node again in a role, with the same environment and NODE_ID. */
  respawn(role: string): Promise<NodeProcess>;
  stop(): Promise<void>;
}

export async function startRig(tag: string, env: Record<string, string> = {}): Promise<Rig> {
  const db = await createDatabase();
  const cwd = mkdtempSync(join(tmpdir(), 'bunshop-faults-'));
  const settings = {
    DATABASE_URL: db.url,
    JWT_SECRET: jwtSecret,
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    LOG_LEVEL: 'info',
    ...env,
  };
  let topology: Topology | undefined;
  let sql: postgres.Sql | undefined;
  const all: NodeProcess[] = [];
  const stop = async () => {
    if (topology) {
      for (const n of topology.nodes.values()) n.proc.kill('SIGCONT');
      const stopped = topology.stop().then(() => true);
      const timedOut = Bun.sleep(20_000).then(() => false);
      if (!(await Promise.race([stopped, timedOut]))) {
        for (const n of topology.nodes.values()) n.proc.kill('SIGKILL');
        await deleteEventStream(topology.prefix).catch(() => {});
      }
    }
    for (const n of all) if (n.proc.exitCode === null) n.proc.kill('SIGKILL');
    await sql?.end({ timeout: 2 }).catch(() => {});
    await db.drop();
    rmSync(cwd, { recursive: true, force: true });
  };
  try {
    topology = await startTopology(settings);
    all.push(...topology.nodes.values());
    sql = postgres(db.url, { max: 2, onnotice: () => {} });
    const api = client(topology.gateway.baseUrl);
    const { shoppers, stocked } = await seed(api, tag);
    const t = topology;
    return {
      topology: t,
      api,
      sql,
      shoppers,
      stocked,
      all,
      stop,
      async respawn(role) {
        const r = roles.find((x) => x.id === role)!;
        const node = await spawnNode(
          {
            ...settings,
            TRANSPORT: 'nats',
            SUBJECT_PREFIX: t.prefix,
            MODULES: r.modules,
            NODE_ID: `${t.prefix}-${r.id}`,
          },
          60_000,
          cwd,
        );
        t.nodes.set(role, node);
        all.push(node);
        return node;
      },
    };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

/** Three skus with little stock; 16 shoppers, every fourth of them with too little money. */
async function seed(api: Client, tag: string) {
  const adminToken = await api.adminToken();
  const stocked = new Map<string, number>([
    [`${tag}-A-${Date.now().toString(36)}`, 40],
    [`${tag}-B-${Date.now().toString(36)}`, 25],
    [`${tag}-C-${Date.now().toString(36)}`, 12],
  ]);
  const prices = [100, 250, 400];
  for (const [i, [sku, qty]] of [...stocked].entries())
    await api.stock(adminToken, sku, prices[i]!, qty);
  const shoppers = await Promise.all(
    Array.from({ length: 16 }, async (_, i) => {
      const user = await api.newUser(tag);
      const depositedCents = i % 4 === 0 ? 300 : 4_000;
      await api.deposit(user.token, depositedCents);
      return { token: user.token, depositedCents } satisfies Shopper;
    }),
  );
  return { shoppers, stocked };
}

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, Bun.sleep(ms).then(() => Promise.reject(new Error('client timeout')))]);

/**
 * Places orders from a few concurrent workers for `durationMs`, tolerating every error and
 * timeout, while another worker signs new users up. Acknowledged (201/202) order ids are kept.
 */
export function orderStream(rig: Rig, o: { durationMs: number; workers?: number }) {
  const skus = [...rig.stocked.keys()];
  const acknowledged = new Set<string>();
  const statuses = new Map<number | string, number>();
  const count = (k: number | string) => statuses.set(k, (statuses.get(k) ?? 0) + 1);
  const until = Date.now() + o.durationMs;
  let n = 0;
  const worker = async (w: number) => {
    while (Date.now() < until) {
      const i = n++;
      const shopper = rig.shoppers[(i * 7 + w) % rig.shoppers.length]!;
      const items = [{ sku: skus[i % skus.length]!, qty: 1 + (i % 2) }];
      if (i % 5 === 0) items.push({ sku: skus[(i + 1) % skus.length]!, qty: 1 });
      await withTimeout(rig.api.post('/orders', { items }, { token: shopper.token }), 10_000)
        .then((r) => {
          count(r.status);
          if (r.status === 201 || r.status === 202) acknowledged.add(r.body.id);
        })
        .catch(() => count('error'));
      await Bun.sleep(250);
    }
  };
  let signUps = 0;
  const signUpWorker = async () => {
    while (Date.now() < until) {
      await withTimeout(rig.api.newUser('late'), 10_000)
        .then(() => signUps++)
        .catch(() => {});
      await Bun.sleep(700);
    }
  };
  const done = Promise.all([
    ...Array.from({ length: o.workers ?? 4 }, (_, w) => worker(w)),
    signUpWorker(),
  ]).then(() => ({ attempts: n, statuses: Object.fromEntries(statuses), signUps }));
  return { done, acknowledged };
}

/** Polls until `check` returns 0 or the deadline passes; returns the last value. */
async function until(deadline: number, check: () => Promise<number>): Promise<number> {
  for (;;) {
    const left = await check();
    if (left === 0 || Date.now() > deadline) return left;
    await Bun.sleep(250);
  }
}

export interface Outcome {
  report: Report;
  /** Users without a payment account (a lost user.created event). */
  missingAccounts: number;
  /** Milliseconds from healing until no order was PENDING. */
  settledAfterMs: number;
}

/**
 * Waits (at most `settleBoundMs` after `healedAt`) for every order to be final and every
 * user to have an account, then checks I1-I4 through the API and the stock counters in SQL.
 */
export async function verify(
  rig: Rig,
  acknowledged: Set<string>,
  healedAt: number,
): Promise<Outcome> {
  const deadline = healedAt + settleBoundMs;
  const pending = await until(
    deadline,
    async () =>
      (await rig.sql`select count(*)::int as n from "order".orders where status = 'PENDING'`)[0]!
        .n,
  );
  const settledAfterMs = pending === 0 ? Math.max(0, Date.now() - healedAt) : -1;
  const missingAccounts = await until(
    deadline,
    async () =>
      (
        await rig.sql`select count(*)::int as n from "user".users u
          where not exists (select 1 from payment.accounts a where a.user_id = u.id)`
      )[0]!.n,
  );
  const report = await checkInvariants(rig.api, rig.shoppers, rig.stocked, acknowledged, 1_000);
  // I1 beyond what the API shows: nothing left reserved at rest, no negative counter.
  const skus = [...rig.stocked.keys()];
  const bad = await rig.sql`select sku from inventory.items
    where sku = any(${skus}) and (reserved <> 0 or available < 0 or sold < 0)`;
  report.oversold += bad.length;
  return { report, missingAccounts, settledAfterMs };
}

export function summaryLine(scenario: string, kills: number, o: Outcome): string {
  const r = o.report;
  return summary({
    scenario,
    mode: 'nats',
    orders: r.orders,
    kills,
    confirmed: r.confirmed,
    rejected: r.rejected,
    lost: r.lost,
    stuck: r.stuck,
    doubleCharged: r.doubleCharged,
    oversold: r.oversold,
    moneyMismatch: r.moneyMismatch,
    missingAccounts: o.missingAccounts,
  });
}

export const faultViolations = (o: Outcome) => violations(o.report) + o.missingAccounts;

/**
 * Samples every live node's /metrics while a fault lasts, noting the modules whose breaker
 * some node reported open (`circuit_breaker_state{module="..."} 2`).
 */
export function watchBreakers(rig: Rig) {
  const open = new Set<string>();
  let running = true;
  const loop = (async () => {
    while (running) {
      await Promise.all(
        [...rig.topology.nodes.values()].map((n) =>
          withTimeout(fetch(`${n.baseUrl}/metrics`).then((r) => r.text()), 1_000)
            .then((text) => {
              for (const m of text.matchAll(/circuit_breaker_state\{module="(\w+)"\} 2\b/g))
                open.add(m[1]!);
            })
            .catch(() => {}),
        ),
      );
      await Bun.sleep(250);
    }
  })();
  return {
    open,
    stop: async () => {
      running = false;
      await loop;
      return open;
    },
  };
}

/** Whether some node logged the breaker for `module` opening, and closing again after that. */
export function breakerLog(rig: Rig, module: string): { opened: boolean; closedAfter: boolean } {
  let opened = false;
  let closedAfter = false;
  for (const node of rig.all) {
    let openedHere = false;
    for (const line of node.output().split('\n')) {
      if (line.includes(`"circuit breaker for ${module} opened"`)) openedHere = opened = true;
      else if (openedHere && line.includes(`"circuit breaker for ${module} is closed"`))
        closedAfter = true;
    }
  }
  return { opened, closedAfter };
}
