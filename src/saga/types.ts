import type { CallContext } from '../context.ts';
import type { Db } from '../db/types.ts';

export interface SagaStep<S> {
  name: string;
  /** Runs the step; must be idempotent for the saga id. Returns state to merge. */
  run(state: S, ctx: CallContext): Promise<Partial<S> | undefined>;
  /** Undoes the step; must be idempotent and safe even when the step never ran. */
  compensate?(state: S, ctx: CallContext): Promise<void>;
  /**
   * The point of no return: once this step succeeded, the saga deadline no longer turns it
   * back, and the later steps (which must not fail for business reasons) are retried until
   * they succeed. Without it, a step that ran but whose reply was lost past the deadline
   * would be compensated although its effect cannot be undone (stock already sold).
   */
  pivot?: boolean;
}

/** `fail` compensates at once with a reason; `retry` tries again with backoff. */
export type StepFailure = { kind: 'fail'; reason: string } | { kind: 'retry' };

export interface SagaDefinition<S, R = void> {
  name: string;
  /** The module whose calls the saga makes, for the call context. */
  module: string;
  steps: readonly SagaStep<S>[];
  classify(err: unknown): StepFailure;
  /** Reason recorded when transient failures outlast the saga deadline. */
  timeoutReason: string;
  /**
   * Commits the outcome in one statement with the saga's own write, `doneCte` of its table as
   * `with done as (...)`, every other write gated on `exists (select 1 from done)`: the outcome
   * and "done" commit together or not at all, in one round trip. Resolves `{ outcome }`, what
   * `drive` resolves with, or undefined when the saga was not this node's to finish.
   */
  complete(db: Db, done: DoneValues, state: S): Promise<Finished<R>>;
  fail(db: Db, done: DoneValues, state: S, reason: string): Promise<Finished<R>>;
}

/** The values of `beginCte`'s placeholders (`SagaEngine.beginValues`), to pass with the statement's own. */
export type BeginValues = {
  sagaId: string;
  sagaName: string;
  sagaState: unknown;
  sagaOwner: string;
  sagaLeaseUntil: Date;
  sagaDeadlineAt: Date;
  sagaTrace: Record<string, string>;
};

/** The values of `doneCte`'s placeholders, to pass with the finishing statement's own. */
export type DoneValues = {
  sagaId: string;
  sagaOwner: string;
  sagaNow: Date;
  sagaStep: number;
  sagaState: unknown;
};

export type Finished<R> = { outcome: R } | undefined;
