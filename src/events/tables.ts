import { sql } from 'drizzle-orm';
import { index, integer, jsonb, type PgSchema, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { timestampTz } from '../db/columns.ts';

/** The transactional outbox, one per publishing module, inside that module's schema. */
export function outboxTable(schema: PgSchema) {
  return schema.table(
    'outbox',
    {
      id: uuid('id').primaryKey(),
      event: text('event').notNull(),
      payload: jsonb('payload').notNull(),
      headers: jsonb('headers').$type<Record<string, string>>().notNull().default({}),
      createdAt: timestampTz('created_at').notNull().defaultNow(),
      publishedAt: timestampTz('published_at'),
      attempts: integer('attempts').notNull().default(0),
      nextAttemptAt: timestampTz('next_attempt_at').notNull().defaultNow(),
      lastError: text('last_error'),
      deadAt: timestampTz('dead_at'),
    },
    (t) => [
      index('outbox_pending_idx')
        .on(t.nextAttemptAt)
        .where(sql`${t.publishedAt} is null and ${t.deadAt} is null`),
    ],
  );
}

/** Event ids a subscriber has handled, written in the same transaction as the handling. */
export function inboxTable(schema: PgSchema) {
  return schema.table(
    'inbox',
    {
      eventId: uuid('event_id').notNull(),
      handler: text('handler').notNull(),
      handledAt: timestampTz('handled_at').notNull().defaultNow(),
    },
    (t) => [primaryKey({ columns: [t.eventId, t.handler] })],
  );
}

export type OutboxTable = ReturnType<typeof outboxTable>;
export type InboxTable = ReturnType<typeof inboxTable>;
