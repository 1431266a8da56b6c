import { expect } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { type Client, client } from './client.ts';
import { createDatabase } from './database.ts';
import { checkInvariants, type Report, type Shopper, summary, violations } from './invariants.ts';
import { deleteEventStream } from './nats.ts';
import { type NodeProcess, spawnNode } from './process.ts';
import { admin, jwtSecret } from './target.ts';
import { roles, startTopology, type Topology } from './topology.ts';

/** RELIABILITY.md, I4: every order is final this long after the last fault healed. */
export const settleBoundMs = 30_000;

/** A six-process topology on a fresh database, seeded with stock and shoppers, and its cleanup. */
export interface Rig {
  topology: Topology;
  api: Client;
  sql: postgres.Sql;
  shoppers: Shopper[];
  stocked: Map<string, number>;
  /** Every node process started, the dead ones included (for their logs). */
  all: NodeProcess[];
  /** Starts a node again in a role, with the same environment (plus `extra`) and NODE_ID. */
  respawn(role: string, extra?: Record<string, string>): Promise<NodeProcess>;
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
      // A node that cannot shut down gracefully (say, with NATS gone) is killed after 20 s.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<boolean>((r) => (timer = setTimeout(r, 20_000, false)));
      const stopped = topology.stop().then(
        () => true,
        () => false,
      );
      const graceful = await Promise.race([stopped, timedOut]);
      clearTimeout(timer);
      if (!graceful) {
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
      async respawn(role, extra = {}) {
        const r = roles.find((x) => x.id === role)!;
        const ids = { MODULES: r.modules, NODE_ID: `${t.prefix}-${r.id}` };
        const common = { ...settings, TRANSPORT: 'nats', SUBJECT_PREFIX: t.prefix };
        const node = await spawnNode({ ...common, ...ids, ...extra }, 60_000, cwd);
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
    [`${tag}-A-${Date.now().toString(36)}`, 90],
    [`${tag}-B-${Date.now().toString(36)}`, 45],
    [`${tag}-C-${Date.now().toString(36)}`, 20],
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
  /** Users without a payment account: a user.created event lost or never handled. */
  missingAccounts: number;
  /** Outbox rows (user, order) never published, or dead-lettered: I6. */
  unpublished: number;
  /** Milliseconds from healing until no order was PENDING; -1 if that never happened. */
  settledAfterMs: number;
}

/**
 * Waits (at most `settleBoundMs` after `healedAt`) for every order to be final, every user
 * to have an account and every outbox to drain, then checks I1-I4 through the API and the
 * stock counters in SQL.
 */
export async function verify(
  rig: Rig,
  acknowledged: Set<string>,
  healedAt: number,
): Promise<Outcome> {
  const deadline = healedAt + settleBoundMs;
  const count = (q: Promise<{ n: number }[]>) => q.then((rows) => rows[0]!.n);
  const { sql } = rig;
  const pending = await until(deadline, () =>
    count(sql`select count(*)::int as n from "order".orders where status = 'PENDING'`),
  );
  const settledAfterMs = pending === 0 ? Math.max(0, Date.now() - healedAt) : -1;
  const missingAccounts = await until(deadline, () =>
    count(sql`select count(*)::int as n from "user".users u
      where not exists (select 1 from payment.accounts a where a.user_id = u.id)`),
  );
  const unpublished = await until(deadline, () =>
    count(sql`select (select count(*) from "user".outbox where published_at is null)::int
      + (select count(*) from "order".outbox where published_at is null)::int as n`),
  );
  const report = await checkInvariants(rig.api, rig.shoppers, rig.stocked, acknowledged, 1_000);
  // I1 beyond what the API shows: nothing left reserved at rest, no negative counter.
  const bad = await sql`select sku from inventory.items where sku = any(${[...rig.stocked.keys()]})
    and (reserved <> 0 or available < 0 or sold < 0)`;
  report.oversold += bad.length;
  return { report, missingAccounts, unpublished, settledAfterMs };
}

export function summaryLine(scenario: string, kills: number, o: Outcome): string {
  const { orders, confirmed, rejected, lost, stuck, doubleCharged, oversold, moneyMismatch } =
    o.report;
  return summary({
    scenario,
    mode: 'nats',
    orders,
    kills,
    confirmed,
    rejected,
    lost,
    stuck,
    doubleCharged,
    oversold,
    moneyMismatch,
    missingAccounts: o.missingAccounts,
    unpublished: o.unpublished,
  });
}

export const faultViolations = (o: Outcome) =>
  violations(o.report) + o.missingAccounts + o.unpublished;

/**
 * Samples every live node's /metrics while a fault lasts, noting the modules whose breaker
 * some node reported open (`bunshop_circuit_breaker_state{module="..."} 2`).
 */
export function watchBreakers(rig: Rig) {
  const open = new Set<string>();
  let running = true;
  const sample = (n: NodeProcess) =>
    withTimeout(
      fetch(`${n.baseUrl}/metrics`).then((r) => r.text()),
      1_000,
    ).then((text) => {
      for (const m of text.matchAll(/bunshop_circuit_breaker_state\{module="(\w+)"\} 2\b/g))
        open.add(m[1]!);
    });
  const loop = (async () => {
    while (running) {
      await Promise.allSettled([...rig.topology.nodes.values()].map(sample));
      await Bun.sleep(250);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return open;
    },
  };
}

/**
 * The breakers the nodes logged opening, by target module, and whether every node that
 * opened one logged it closed again afterwards.
 */
export function breakerLog(rig: Rig): Map<string, { opened: number; closedAfter: boolean }> {
  const seen = new Map<string, { opened: number; closedAfter: boolean }>();
  for (const node of rig.all) {
    const open = new Map<string, boolean>();
    for (const line of node.output().split('\n')) {
      const m = /"msg":"circuit breaker for (\w+) (opened|is closed)"/.exec(line);
      if (!m) continue;
      if (m[2] === 'opened') open.set(m[1]!, true);
      else if (open.has(m[1]!)) open.set(m[1]!, false);
    }
    for (const [module, stillOpen] of open) {
      const s = seen.get(module) ?? { opened: 0, closedAfter: true };
      s.opened += 1;
      // A dead node's breakers died with it.
      if (stillOpen && node.proc.exitCode === null) s.closedAfter = false;
      seen.set(module, s);
    }
  }
  return seen;
}

/**
 * After healing: waits for the stream, checks everything, prints the summary line, and asserts
 * what every scenario shares (enough orders, both outcomes, settled in time, no violation).
 */
export async function settleAndCheck(
  rig: Rig,
  scenario: { name: string; kills: number; healedAt: number; extra?: Record<string, unknown> },
  stream: ReturnType<typeof orderStream>,
  breakers?: ReturnType<typeof watchBreakers>,
) {
  const seenOpen = breakers ? await breakers.stop() : new Set<string>();
  const stats = await stream.done;
  const outcome = await verify(rig, stream.acknowledged, scenario.healedAt);
  const log = breakerLog(rig);
  const details = { ...stats, ...scenario.extra, settledAfterMs: outcome.settledAfterMs };
  if (breakers)
    Object.assign(details, { breakerOpen: [...seenOpen], breakerLog: Object.fromEntries(log) });
  console.log(summaryLine(scenario.name, scenario.kills, outcome), JSON.stringify(details));
  expect(outcome.report.orders).toBeGreaterThan(50);
  expect(outcome.report.confirmed).toBeGreaterThan(0);
  expect(outcome.report.rejected).toBeGreaterThan(0);
  expect(outcome.settledAfterMs).toBeGreaterThanOrEqual(0);
  expect(faultViolations(outcome)).toBe(0);
  return { outcome, seenOpen, log };
}
