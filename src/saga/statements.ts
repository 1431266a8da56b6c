import { and, eq, gt, isNull, lt, ne, or, type SQL, sql } from 'drizzle-orm';
import { commitsLazily } from '../db/commit.ts';
import { placeholder, statement, typed } from '../db/statement.ts';
import type { SagaPhase, SagaRow, SagaTable } from './table.ts';

/** The saga row `id`, while `owner` holds its lease at `now` (placeholder names given). */
const heldBy = (table: SagaTable, id: string, owner: string, now: string) =>
  and(
    eq(table.id, sql.placeholder(id)),
    eq(table.leaseOwner, sql.placeholder(owner)),
    gt(table.leaseUntil, placeholder(table.leaseUntil, now)),
  )!;

/** The saga table's hot statements, built once per engine (bench/README.md, W2). */
export function sagaStatements(table: SagaTable) {
  const at = (name: string) => placeholder(table.leaseUntil, name);
  const held = heldBy(table, 'id', 'owner', 'now');
  /** Every column a transition may change, written whole while `owner` holds the lease. */
  const transition = (lazily: boolean) =>
    statement<
      {
        id: string;
        owner: string;
        now: Date;
        state: unknown;
        phase: SagaPhase;
        step: number;
        reason: string | null;
        undoFrom: number | null;
        attempts: number;
        leaseUntil: Date;
      },
      SagaRow[]
    >((on) =>
      on
        .update(table)
        .set({
          state: placeholder(table.state, 'state'),
          phase: placeholder(table.phase, 'phase'),
          step: placeholder(table.step, 'step'),
          reason: placeholder(table.reason, 'reason'),
          undoFrom: placeholder(table.undoFrom, 'undoFrom'),
          attempts: placeholder(table.attempts, 'attempts'),
          updatedAt: at('now'),
          leaseUntil: at('leaseUntil'),
        })
        .where(lazily ? and(held, commitsLazily) : held)
        .returning(),
    );
  return {
    begin: statement<
      {
        id: string;
        saga: string;
        state: unknown;
        owner: string;
        leaseUntil: Date;
        deadlineAt: Date;
        trace: Record<string, string>;
      },
      SagaRow[]
    >((on) =>
      on
        .insert(table)
        .values({
          id: sql.placeholder('id'),
          saga: sql.placeholder('saga'),
          state: sql.placeholder('state'),
          phase: 'forward',
          step: 0,
          leaseOwner: sql.placeholder('owner'),
          leaseUntil: sql.placeholder('leaseUntil'),
          deadlineAt: sql.placeholder('deadlineAt'),
          trace: sql.placeholder('trace'),
        })
        .returning(),
    ),
    write: transition(false),
    /** `write`, committed without waiting for its WAL flush (SagaEngineOptions.lazyTransitions). */
    writeLazily: transition(true),
    renew: statement<{ id: string; owner: string; now: Date; leaseUntil: Date }, SagaRow[]>((on) =>
      on
        .update(table)
        .set({ leaseOwner: placeholder(table.leaseOwner, 'owner'), leaseUntil: at('leaseUntil') })
        .where(
          and(
            eq(table.id, sql.placeholder('id')),
            ne(table.phase, 'done'),
            or(
              eq(table.leaseOwner, sql.placeholder('owner')),
              isNull(table.leaseUntil),
              lt(table.leaseUntil, at('now')),
            ),
          ),
        )
        .returning(),
    ),
  };
}

/**
 * The saga's own half of finishing, for a definition's one statement to include as
 * `with done as (...)` (`SagaDefinition.complete`): marks the saga done with its last step and
 * state while this node holds the lease, returning its id; nothing when another node has it.
 * Its placeholders are those of `DoneValues`.
 */
export function doneCte(table: SagaTable): SQL {
  return sql`update ${table} set phase = 'done', step = ${typed('sagaStep', 'integer')},
      state = ${placeholder(table.state, 'sagaState')}::jsonb, attempts = 0,
      updated_at = ${placeholder(table.updatedAt, 'sagaNow')}::timestamptz,
      lease_owner = null, lease_until = null
    where ${heldBy(table, 'sagaId', 'sagaOwner', 'sagaNow')}
    returning id`;
}

/**
 * The saga's own half of starting, for a definition's one statement to include after the write
 * that creates the saga's subject: inserts the saga, leased to this node, once for each row of
 * the CTE `from` (none: no saga), returning its row. Its placeholders are those of `BeginValues`;
 * select the row with `sagaRowColumns` and decode it with `sagaRowDecoders`.
 */
export function beginCte(table: SagaTable, from: SQL): SQL {
  return sql`insert into ${table} (id, saga, state, phase, step, lease_owner, lease_until,
      deadline_at, trace)
    select ${typed('sagaId', 'uuid')}, ${typed('sagaName', 'text')},
      ${placeholder(table.state, 'sagaState')}::jsonb, 'forward', 0, ${typed('sagaOwner', 'text')},
      ${placeholder(table.leaseUntil, 'sagaLeaseUntil')}::timestamptz,
      ${placeholder(table.deadlineAt, 'sagaDeadlineAt')}::timestamptz,
      ${placeholder(table.trace, 'sagaTrace')}::jsonb
    from ${from}
    returning *`;
}

/** A saga row's columns as `SagaRow` names them, to select from a CTE of saga rows. */
export const sagaRowColumns = sql.raw(`id, saga, state, phase, step, reason,
  undo_from as "undoFrom", trace, attempts, lease_owner as "leaseOwner",
  lease_until as "leaseUntil", deadline_at as "deadlineAt", created_at as "createdAt",
  updated_at as "updatedAt"`);

/** The decoders of `sagaRowColumns` that the driver's text needs (JSON, timestamps). */
export function sagaRowDecoders(table: SagaTable) {
  const { state, trace, leaseUntil, deadlineAt, createdAt, updatedAt } = table;
  return { state, trace, leaseUntil, deadlineAt, createdAt, updatedAt };
}
