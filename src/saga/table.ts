import { sql } from 'drizzle-orm';
import { index, integer, jsonb, type PgSchema, text, uuid } from 'drizzle-orm/pg-core';
import { timestampTz } from '../db/columns.ts';

export type SagaPhase = 'forward' | 'compensating' | 'done';

/** Persisted saga state, in the schema of the module that owns the saga. */
export function sagaTable(schema: PgSchema) {
  return schema.table(
    'sagas',
    {
      id: uuid('id').primaryKey(),
      saga: text('saga').notNull(),
      state: jsonb('state').notNull(),
      phase: text('phase').$type<SagaPhase>().notNull(),
      /** forward: the next step to run; compensating: the next step to undo. */
      step: integer('step').notNull(),
      reason: text('reason'),
      /** The step compensation started from: above 0, some step had taken effect and was undone. */
      undoFrom: integer('undo_from'),
      /** W3C trace context of the transaction that began the saga: its step spans join that trace. */
      trace: jsonb('trace').$type<Record<string, string>>().notNull().default({}),
      attempts: integer('attempts').notNull().default(0),
      leaseOwner: text('lease_owner'),
      leaseUntil: timestampTz('lease_until'),
      deadlineAt: timestampTz('deadline_at').notNull(),
      createdAt: timestampTz('created_at').notNull().defaultNow(),
      updatedAt: timestampTz('updated_at').notNull().defaultNow(),
    },
    (t) => [index('sagas_open_idx').on(t.leaseUntil).where(sql`${t.phase} <> 'done'`)],
  );
}

export type SagaTable = ReturnType<typeof sagaTable>;
export type SagaRow = SagaTable['$inferSelect'];
