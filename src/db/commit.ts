import { sql } from 'drizzle-orm';

/**
 * A condition that is always true and makes the statement's own transaction commit without
 * waiting for its WAL flush (`SET LOCAL synchronous_commit = off`, per transaction as the
 * Postgres manual suggests). Only for bookkeeping whose loss in a Postgres crash is redone and
 * hides no effect: the relay's claim and mark (the event is delivered again, deduplicated by its
 * id), and a saga's transitions when every step commits to the same server (the next step's own
 * flush covers the transition before its effect exists; SagaEngineOptions.lazyTransitions).
 * Every write that acknowledges something or holds a resource commits as usual.
 */
export const commitsLazily = sql`(select set_config('synchronous_commit', 'off', true)) = 'off'`;
