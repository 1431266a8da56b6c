import { and, eq, isNull, lt, ne, or } from 'drizzle-orm';
import type { Clock } from '../clock.ts';
import { systemContext } from '../context.ts';
import type { Db, Tx } from '../db/types.ts';
import { crashPoint } from '../faults.ts';
import type { Logger } from '../observability/log.ts';
import type { Metrics } from '../observability/metrics.ts';
import {
  contextFromHeaders,
  inSpan,
  outsideTransaction,
  traceHeaders,
} from '../observability/tracing.ts';
import { sagaStatements } from './statements.ts';
import type { SagaRow, SagaTable } from './table.ts';
import type { BeginValues, SagaDefinition } from './types.ts';

export interface SagaEngineOptions<S, R = void> {
  db: Db;
  table: SagaTable;
  definition: SagaDefinition<S, R>;
  clock: Clock;
  log: Logger;
  metrics?: Metrics;
  /** This node's identity, written as the lease owner. */
  owner: string;
  leaseMs?: number;
  stepTimeoutMs?: number;
  recoverEveryMs?: number;
  /**
   * Transitions that keep the lease commit without waiting for their WAL flush. Only when every
   * step's effects commit to the same Postgres server as the saga's table: the next step's own
   * flush then covers the transition, so no effect can outlive the record that it ran
   * (src/db/commit.ts). Across servers a lost transition could hide a step that did run.
   */
  lazyTransitions?: boolean;
}

/**
 * Drives persisted sagas. Every step's outcome is written before the next step starts;
 * a node drives a saga only while it holds its lease, so after a crash or a pause
 * another node (or this one, restarted) resumes where the last write left off.
 */
export class SagaEngine<S, R = void> {
  readonly #o: Required<Omit<SagaEngineOptions<S, R>, 'metrics'>> & { metrics?: Metrics };
  readonly #driving = new Map<string, Promise<R | undefined>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #first: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  readonly #stop = new AbortController();

  /** Index of the pivot step; past it the deadline no longer applies (all steps when none). */
  readonly #pivot: number;
  readonly #sql: ReturnType<typeof sagaStatements>;

  constructor(options: SagaEngineOptions<S, R>) {
    const pivot = options.definition.steps.findIndex((s) => s.pivot);
    this.#pivot = pivot < 0 ? options.definition.steps.length : pivot;
    this.#o = {
      lazyTransitions: false,
      leaseMs: 30_000,
      stepTimeoutMs: 5_000,
      recoverEveryMs: 5_000,
      ...options,
    };
    this.#sql = sagaStatements(options.table);
  }

  /** Creates the saga inside the caller's transaction, leased to this node; pass the row to `drive`. */
  async begin(tx: Tx, id: string, state: S, timeoutMs: number): Promise<SagaRow> {
    const v = this.beginValues(id, state, timeoutMs);
    const [row] = await this.#sql.begin(tx, {
      id,
      saga: v.sagaName,
      state,
      owner: v.sagaOwner,
      leaseUntil: v.sagaLeaseUntil,
      deadlineAt: v.sagaDeadlineAt,
      trace: v.sagaTrace,
    });
    return row!;
  }

  /**
   * The saga's row as `begin` would write it, for a statement of the caller's that creates it
   * with `beginCte` (one round trip with the caller's own write); pass the row to `drive`.
   */
  beginValues(id: string, state: S, timeoutMs: number): BeginValues {
    const now = this.#o.clock.now();
    return {
      sagaId: id,
      sagaName: this.#o.definition.name,
      sagaState: state,
      sagaOwner: this.#o.owner,
      sagaLeaseUntil: new Date(now + this.#o.leaseMs),
      sagaDeadlineAt: new Date(now + timeoutMs),
      // The action's span, not its transaction's: the steps run after that transaction ends.
      sagaTrace: traceHeaders(outsideTransaction()),
    };
  }

  /**
   * Drives one saga until it is done (resolving with what `complete` or `fail` returned), this
   * node loses its lease, or the engine stops (resolving undefined). `begun` is the row `begin`
   * returned, committed since: its lease is fresh, so the driver need not take it again.
   */
  drive(id: string, begun?: SagaRow): Promise<R | undefined> {
    const current = this.#driving.get(id);
    if (current) return current;
    const run = this.#drive(id, begun)
      .catch((err) => {
        this.#o.log.error('saga driver failed; recovery will resume it', { id, err });
        return undefined;
      })
      .finally(() => this.#driving.delete(id));
    this.#driving.set(id, run);
    return run;
  }

  /**
   * Looks for orphaned sagas now and then. The first pass waits `firstPassMs`: a node just
   * started answers its first probes and requests before background work takes connections.
   */
  start(firstPassMs = 500): void {
    const tick = () => {
      this.recover().catch((err) => this.#o.log.warn('saga recovery pass failed', { err }));
    };
    this.#first = setTimeout(() => {
      tick();
      this.#timer = setInterval(tick, this.#o.recoverEveryMs);
    }, firstPassMs);
  }

  /** Stops driving; sagas in flight keep their persisted state and are resumed later. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stop.abort();
    clearTimeout(this.#first);
    clearInterval(this.#timer);
    await Promise.allSettled(this.#driving.values());
  }

  /** Claims sagas whose lease expired (a crashed or paused node's) and drives them. */
  async recover(limit = 50): Promise<number> {
    const { db, table, owner, clock, leaseMs } = this.#o;
    const now = new Date(clock.now());
    const claimed = await db.transaction(async (tx) => {
      const open = await tx
        .select({ id: table.id })
        .from(table)
        .where(
          and(
            ne(table.phase, 'done'),
            // Also this node's own leases: after a restart with the same NODE_ID, resume at once.
            or(isNull(table.leaseUntil), lt(table.leaseUntil, now), eq(table.leaseOwner, owner)),
          ),
        )
        .limit(limit)
        .for('update', { skipLocked: true });
      const idle = open.filter(({ id }) => !this.#driving.has(id));
      for (const { id } of idle) {
        await tx
          .update(table)
          .set({ leaseOwner: owner, leaseUntil: new Date(clock.now() + leaseMs) })
          .where(eq(table.id, id));
      }
      return idle;
    });
    for (const { id } of claimed) {
      this.#o.log.info('resuming saga', { saga: this.#o.definition.name, id });
      void this.drive(id);
    }
    return claimed.length;
  }

  async #drive(id: string, begun?: SagaRow): Promise<R | undefined> {
    const { definition: def, clock } = this.#o;
    let row = begun?.leaseOwner === this.#o.owner ? begun : await this.#renew(id);
    while (row && !this.#stopped) {
      const state = row.state as S;
      if (row.phase === 'done') return undefined;
      if (row.phase === 'forward') {
        if (row.step >= def.steps.length) return this.#finish(row, undefined);
        if (row.step <= this.#pivot && clock.now() > row.deadlineAt.getTime()) {
          row = await this.#write(row, {
            phase: 'compensating',
            reason: def.timeoutReason,
            undoFrom: row.step,
          });
          continue;
        }
        const current = await this.#checkLease(row);
        if (!current) return undefined;
        const step = def.steps[current.step]!;
        const last = current.step === def.steps.length - 1;
        let patch: Partial<S> | undefined;
        try {
          patch = await this.#span(current, step.name, () => step.run(state, this.#ctx(current)));
          if (!last) {
            row = await this.#write(current, {
              state: { ...state, ...patch },
              step: current.step + 1,
              attempts: 0,
            });
            crashPoint(step.name);
            continue;
          }
        } catch (err) {
          const failure = def.classify(err);
          row =
            failure.kind === 'fail'
              ? await this.#write(current, {
                  phase: 'compensating',
                  reason: failure.reason,
                  undoFrom: current.step,
                  attempts: 0,
                })
              : await this.#retryLater(current, step.name, err);
          continue;
        }
        // The last step's outcome is written by the finishing statement, outside the step's
        // error handling: a failed finish is not a failed step (recovery finishes it later).
        crashPoint(step.name);
        return this.#finish(
          { ...current, state: { ...state, ...patch }, step: current.step + 1, attempts: 0 },
          undefined,
        );
      } else {
        if (row.step < 0) return this.#finish(row, row.reason ?? def.timeoutReason);
        const current = await this.#checkLease(row);
        if (!current) return undefined;
        const step = def.steps[current.step]!;
        try {
          if (step.compensate) {
            const undo = step.compensate;
            await this.#span(current, `compensate-${step.name}`, () =>
              undo(state, this.#ctx(current)),
            );
          }
          row = await this.#write(current, { step: current.step - 1, attempts: 0 });
          crashPoint(`compensate-${step.name}`);
        } catch (err) {
          row = await this.#retryLater(current, `compensate-${step.name}`, err);
        }
      }
    }
    return undefined;
  }

  /** Before acting: a node that slept (SIGSTOP) past a third of its lease re-checks it first. */
  async #checkLease(row: SagaRow): Promise<SagaRow | undefined> {
    const leaseUntil = row.leaseUntil?.getTime() ?? 0;
    if (this.#o.clock.now() < leaseUntil - (this.#o.leaseMs * 2) / 3) return row;
    return this.#write(row, {});
  }

  /** A step's span, in the trace of the request that began the saga, even after a takeover. */
  #span<T>(row: SagaRow, step: string, fn: () => Promise<T>): Promise<T> {
    const saga = this.#o.definition.name;
    return inSpan(
      `saga ${saga} ${step}`,
      {
        parent: contextFromHeaders((k) => row.trace[k]),
        attributes: {
          'bunshop.saga': saga,
          'bunshop.saga.id': row.id,
          'bunshop.saga.step': step,
          'bunshop.saga.attempt': row.attempts + 1,
          'bunshop.node.id': this.#o.owner,
        },
      },
      fn,
    );
  }

  #ctx(row: SagaRow) {
    // The saga is the one retry layer for its steps (RELIABILITY.md, promise 5).
    return {
      ...systemContext(this.#o.definition.module, this.#o.stepTimeoutMs, row.id),
      noRetry: true,
    };
  }

  async #retryLater(row: SagaRow, stepName: string, err: unknown): Promise<SagaRow | undefined> {
    const attempts = row.attempts + 1;
    this.#o.log.warn('saga step failed; retrying', { id: row.id, step: stepName, attempts, err });
    const delay = Math.min(10_000, 100 * 2 ** attempts) * (0.5 + Math.random() / 2);
    const next = await this.#write(row, { attempts }, true);
    await this.#o.clock.sleep(delay, this.#stop.signal);
    return next;
  }

  /**
   * Persists a transition; undefined when this node lost the lease. The lease is renewed once a
   * third of it has passed (as `#checkLease` wants), not on every write: an unchanged `lease_until`
   * keeps the update off the open-sagas index, so Postgres can make it a HOT update. `renew`
   * renews it anyway, before a wait (a retry's backoff) that could outlast what is left of it.
   */
  async #write(row: SagaRow, patch: Partial<SagaRow>, renew = false): Promise<SagaRow | undefined> {
    const { db, owner, clock, leaseMs } = this.#o;
    const now = clock.now();
    const held = row.leaseUntil?.getTime() ?? 0;
    const fresh = !renew && now < held - (leaseMs * 2) / 3;
    const leaseUntil = fresh ? row.leaseUntil! : new Date(now + leaseMs);
    // Every column a transition may change, written whole: only the lease holder writes.
    const next = { ...row, ...patch };
    // A lease extension always waits for its flush: a lost one could let another node take over.
    const write = fresh && this.#o.lazyTransitions ? this.#sql.writeLazily : this.#sql.write;
    const [written] = await write(db, {
      id: row.id,
      owner,
      now: new Date(now),
      state: next.state,
      phase: next.phase,
      step: next.step,
      reason: next.reason,
      undoFrom: next.undoFrom,
      attempts: next.attempts,
      leaseUntil,
    });
    if (!written) this.#o.log.warn('saga lease lost; another node resumes it', { id: row.id });
    return written;
  }

  /** Takes or extends the lease before acting, so a node woken from a pause does not act. */
  async #renew(id: string): Promise<SagaRow | undefined> {
    const { db, owner, clock, leaseMs } = this.#o;
    const now = clock.now();
    const [row] = await this.#sql.renew(db, {
      id,
      owner,
      now: new Date(now),
      leaseUntil: new Date(now + leaseMs),
    });
    return row;
  }

  /** Marks the saga done (with the step and state `row` carries) and commits its outcome. */
  async #finish(row: SagaRow, reason: string | undefined): Promise<R | undefined> {
    const { db, owner, clock, definition: def } = this.#o;
    const now = new Date(clock.now());
    const done = {
      sagaId: row.id,
      sagaOwner: owner,
      sagaNow: now,
      sagaStep: row.step,
      sagaState: row.state,
    };
    const finished =
      reason === undefined
        ? await def.complete(db, done, row.state as S)
        : await def.fail(db, done, row.state as S, reason);
    if (!finished) return undefined;
    const outcome =
      reason === undefined ? 'confirmed' : (row.undoFrom ?? 0) > 0 ? 'compensated' : 'rejected';
    this.#o.metrics?.sagaOutcomes.inc({ saga: def.name, outcome, reason: reason ?? '' });
    this.#o.metrics?.sagaDuration.observe(
      { saga: def.name, outcome },
      (now.getTime() - row.createdAt.getTime()) / 1000,
    );
    crashPoint(reason === undefined ? 'complete' : 'fail');
    return finished.outcome;
  }
}
