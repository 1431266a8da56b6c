import { type Column, Param, type SQL, sql } from 'drizzle-orm';
import type { Queryable } from './types.ts';

type Values = Record<string, unknown>;
interface Prepared<R> {
  execute(values?: Values): Promise<R>;
}
/** What drizzle's prepared queries of both drivers (PGlite, postgres.js) run on. */
type Runnable<R> = Prepared<R> & { client: unknown };
type Session = { client: unknown };

let made = 0;

/**
 * A query whose SQL drizzle builds once, with `sql.placeholder`s for its values, and which runs
 * on the database or on any transaction open on it. drizzle otherwise rebuilds the text from its
 * query tree on every call, a quarter of the order path's CPU (bench/README.md). drizzle's own
 * prepared query is bound to the connection it was made on: this keeps its text, fields and row
 * mapping, and runs it on the caller's connection.
 */
export function statement<V extends Values, R>(
  build: (on: Queryable) => { prepare(name: string): Prepared<R> },
): (on: Queryable, values: V) => Promise<R> {
  const name = `bunshop_${++made}`;
  // One per driver: a process may hold a PGlite and a Postgres database at once.
  const byDriver = new Map<unknown, Runnable<R>>();
  return (on, values) => {
    const session = (on as unknown as { session: Session }).session;
    let prepared = byDriver.get(session.constructor);
    if (!prepared) {
      prepared = build(on).prepare(name) as Runnable<R>;
      byDriver.set(session.constructor, prepared);
    }
    if (prepared.client === session.client) return prepared.execute(values);
    const onCaller: Runnable<R> = Object.create(prepared, { client: { value: session.client } });
    return onCaller.execute(values);
  };
}

/**
 * A placeholder encoded as `column` encodes its values (a Date to the text Postgres reads, JSON
 * to its text). A bare `sql.placeholder` is sent as given, and drizzle's types keep it out of
 * `.set({...})`.
 */
export const placeholder = (column: Column, name: string): SQL =>
  sql`${new Param(sql.placeholder(name), column)}`;
