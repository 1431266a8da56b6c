import { timestamp } from 'drizzle-orm/pg-core';

/** A `timestamptz` column, read as a Date. */
export const timestampTz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** A required `timestamptz` that defaults to now(): when a row was written or changed. */
export const stampedAt = (name: string) => timestampTz(name).notNull().defaultNow();
