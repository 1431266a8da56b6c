import { sql } from 'drizzle-orm';

/**
 * A condition that is always true and makes the statement's own transaction commit without
 * waiting for its WAL flush (`SET LOCAL synchronous_commit = off`, per transaction as the
 * Postgres manual suggests). Only for bookkeeping whose loss in a Postgres crash rewinds work to
 * a state it was in and gets redone, idempotently: a saga's step transition (the step is retried
 * under its stable key), the relay's claim and mark (the event is delivered again, deduplicated
 * by its id). Every write that acknowledges something or holds a resource commits as usual, and
 * the next such commit on the same server flushes this one's WAL with its own.
 */
export const commitsLazily = sql`(select set_config('synchronous_commit', 'off', true)) = 'off'`;
