/**
 * The saga engine that drives POST /orders, on a real (embedded) database with a clock the
 * test moves: deadlines, the pivot step, compensation order and lease takeover, none of which
 * the HTTP surface can reach without crashing the process.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { eq, sql } from 'drizzle-orm';
import { migrations } from '../../migrations/order/index.ts';
import { sagas } from '../../modules/order/schema.ts';
import type { Clock } from '../../src/clock.ts';
import { migrateModule } from '../../src/db/migrate.ts';
import { openPglite } from '../../src/db/pglite.ts';
import { sqlStatement } from '../../src/db/statement.ts';
import type { Database } from '../../src/db/types.ts';
import { AppError, isAppError } from '../../src/errors.ts';
import { createLogger } from '../../src/observability/log.ts';
import { SagaEngine } from '../../src/saga/engine.ts';
import { doneCte } from '../../src/saga/statements.ts';
import type { DoneValues, SagaDefinition, SagaStep } from '../../src/saga/types.ts';

let database: Database;
let t = Date.parse('2030-01-01T00:00:00Z');
/** Time moves only when the test or a retry's backoff moves it. */
const clock: Clock = {
  now: () => t,
  sleep: async (ms) => {
    t += ms;
  },
};

beforeAll(async () => {
  database = await openPglite(`memory://saga-${crypto.randomUUID()}`);
  await migrateModule(database, 'order', migrations);
}, 60_000);
afterAll(() => database?.close());

/** The saga's own write alone: this test's sagas commit no outcome of their own. */
const markDone = sqlStatement<DoneValues, { id: string }>(
  sql`with done as (${doneCte(sagas)}) select id from done`,
);

interface Run {
  log: string[];
  outcome?: { kind: 'complete' } | { kind: 'fail'; reason: string };
}

type Behaviour = (attempt: number) => void;

/** A three-step saga like place-order: a, then b (the pivot), then c; each step logs itself. */
function definition(run: Run, behave: Partial<Record<'a' | 'b' | 'c', Behaviour>>) {
  const attempts = { a: 0, b: 0, c: 0 };
  const step = (name: 'a' | 'b' | 'c', compensable: boolean, pivot = false): SagaStep<object> => ({
    name,
    pivot,
    run: async () => {
      attempts[name] += 1;
      run.log.push(name);
      behave[name]?.(attempts[name]);
      return undefined;
    },
    ...(compensable
      ? {
          compensate: async () => {
            run.log.push(`undo-${name}`);
          },
        }
      : {}),
  });
  const def: SagaDefinition<object> = {
    name: 'test-saga',
    module: 'order',
    timeoutReason: 'timed_out',
    steps: [step('a', true), step('b', true, true), step('c', false)],
    classify: (err) =>
      isAppError(err) && !err.transient
        ? { kind: 'fail', reason: err.details.reason ?? 'failed' }
        : { kind: 'retry' },
    complete: async (db, done) => {
      if ((await markDone(db, done)).length === 0) return undefined;
      run.outcome = { kind: 'complete' };
      return { outcome: undefined };
    },
    fail: async (db, done, _state, reason) => {
      if ((await markDone(db, done)).length === 0) return undefined;
      run.outcome = { kind: 'fail', reason };
      return { outcome: undefined };
    },
  };
  return def;
}

const engine = (def: SagaDefinition<object>, owner = 'node-a') =>
  new SagaEngine({
    db: database.db,
    table: sagas,
    definition: def,
    clock,
    log: createLogger('silent'),
    owner,
  });

async function begin(e: SagaEngine<object>, timeoutMs = 10_000): Promise<string> {
  const id = Bun.randomUUIDv7();
  await database.db.transaction((tx) => e.begin(tx, id, {}, timeoutMs));
  return id;
}

const phaseOf = async (id: string) =>
  (await database.db.select().from(sagas).where(eq(sagas.id, id)))[0]!;

const lostReply = () => new AppError('unavailable', 'The reply was lost.');

describe('saga engine', () => {
  test('runs every step in order and completes', async () => {
    const run: Run = { log: [] };
    const e = engine(definition(run, {}));
    const id = await begin(e);
    await e.drive(id);
    expect(run.log).toEqual(['a', 'b', 'c']);
    expect(run.outcome).toEqual({ kind: 'complete' });
    expect((await phaseOf(id)).phase).toBe('done');
  });

  test('a business failure compensates the failed step and those before it, in reverse', async () => {
    const run: Run = { log: [] };
    const e = engine(
      definition(run, {
        b: () => {
          throw new AppError('unprocessable', 'No money.', { reason: 'insufficient_funds' });
        },
      }),
    );
    const id = await begin(e);
    await e.drive(id);
    expect(run.log).toEqual(['a', 'b', 'undo-b', 'undo-a']);
    expect(run.outcome).toEqual({ kind: 'fail', reason: 'insufficient_funds' });
  });

  test('transient failures before the pivot are retried, then compensated at the deadline', async () => {
    const run: Run = { log: [] };
    const e = engine(
      definition(run, {
        b: () => {
          t += 3_000;
          throw lostReply();
        },
      }),
    );
    const id = await begin(e, 10_000);
    await e.drive(id);
    expect(run.log.filter((s) => s === 'b').length).toBeGreaterThan(1);
    expect(run.log.slice(-2)).toEqual(['undo-b', 'undo-a']);
    expect(run.outcome).toEqual({ kind: 'fail', reason: 'timed_out' });
  });

  test('past the pivot, a lost reply after the deadline is retried forward, never undone', async () => {
    const run: Run = { log: [] };
    const e = engine(
      definition(run, {
        c: (attempt) => {
          if (attempt > 1) return;
          // The step took effect, the deadline passed and its reply was lost.
          t += 20_000;
          throw lostReply();
        },
      }),
    );
    const id = await begin(e, 10_000);
    await e.drive(id);
    expect(run.log).toEqual(['a', 'b', 'c', 'c']);
    expect(run.outcome).toEqual({ kind: 'complete' });
  });

  test('another node resumes a crashed saga past its pivot forward, even after the deadline', async () => {
    const run: Run = { log: [] };
    const crashed = engine(definition(run, {}), 'node-a');
    const id = await begin(crashed, 10_000);
    // node-a persisted steps a and b, then died: its lease and the deadline both run out.
    await database.db.update(sagas).set({ step: 2 }).where(eq(sagas.id, id));
    t += 60_000;
    const survivor = engine(definition(run, {}), 'node-b');
    expect(await survivor.recover()).toBeGreaterThanOrEqual(1);
    await survivor.drive(id);
    expect(run.log).toEqual(['c']);
    expect(run.outcome).toEqual({ kind: 'complete' });
  });

  test('a saga whose lease is live is not taken by another node; a finished one is not rerun', async () => {
    const run: Run = { log: [] };
    const owner = engine(definition(run, {}), 'node-a');
    const id = await begin(owner);
    const other = engine(definition(run, {}), 'node-b');
    await other.recover();
    await other.drive(id);
    expect(run.log).toEqual([]);
    await owner.drive(id);
    expect(run.log).toEqual(['a', 'b', 'c']);
    t += 60_000;
    await other.recover();
    await other.drive(id);
    await owner.drive(id);
    expect(run.log).toEqual(['a', 'b', 'c']);
  });
});
