import { pgSchema, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { stampedAt } from '../../src/db/columns.ts';
import { outboxTable } from '../../src/events/tables.ts';

export const userSchema = pgSchema('user');

export const users = userSchema.table(
  'users',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    email: text('email').notNull(),
    /** Lower-cased email: addresses differing only in case are the same account. */
    emailKey: text('email_key').notNull(),
    passwordHash: text('password_hash').notNull(),
    role: text('role').$type<'customer' | 'admin'>().notNull(),
    createdAt: stampedAt('created_at'),
  },
  (t) => [uniqueIndex('users_email_key_idx').on(t.emailKey)],
);

export const outbox = outboxTable(userSchema);
