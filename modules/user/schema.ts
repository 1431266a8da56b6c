import { pgSchema, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
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
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('users_email_key_idx').on(t.emailKey)],
);

export const outbox = outboxTable(userSchema);
