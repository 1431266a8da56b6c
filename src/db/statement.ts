import { Column, fillPlaceholders, is, Param, type Placeholder, SQL, sql } from 'drizzle-orm';
import { PostgresJsSession } from 'drizzle-orm/postgres-js';
import * as drizzleUtils from 'drizzle-orm/utils';
import { unprepared } from './prepared.ts';
import type { Queryable } from './types.ts';

type Values = Record<string, unknown>;
interface Prepared<R> {
  execute(values?: Values): Promise<R>;
}
/** What drizzle's prepared queries of both drivers (PGlite, postgres.js) run on. */
type Runnable<R> = Prepared<R> & { client: unknown };
type Session = { client: unknown };
type Run<R> = (session: Session, values: Values) => Promise<R>;
/** What drizzle's postgres.js prepared query holds (drizzle-orm 0.45, postgres-js/session.js). */
interface PostgresJsPrepared {
  queryString: string;
  params: unknown[];
  fields?: unknown[];
  joinsNotNullableMap?: Record<string, boolean>;
  customResultMapper?: unknown;
}
/** drizzle's row mapper, exported but left out of its types (drizzle-orm/utils.js). */
const mapResultRow = (
  drizzleUtils as unknown as {
    mapResultRow(fields: unknown[], row: unknown[], joins?: Record<string, boolean>): unknown;
  }
).mapResultRow;
type Unsafe = (
  query: string,
  params: unknown[],
  options: { prepare: boolean },
) => Promise<unknown> & { values(): Promise<unknown[][]> };

let made = 0;
/** Every statement here is prepared once per connection; frozen, as postgres.js may keep it. */
const preparing = Object.freeze({ prepare: true });

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
  const byDriver = new Map<unknown, Run<R>>();
  return (on, values) => {
    const session = (on as unknown as { session: Session }).session;
    let run = byDriver.get(session.constructor);
    if (!run) {
      run = runner(build(on).prepare(name) as Runnable<R>, session);
      byDriver.set(session.constructor, run);
    }
    return run(session, values);
  };
}

/**
 * On postgres.js, the production driver, the query goes straight to the connection: drizzle's
 * execute adds four async steps and a cache check to each query (3 us of a 13 us read, measured).
 * Rows are mapped by drizzle's own mapper. Elsewhere, drizzle's execute on the caller's client.
 */
function runner<R>(prepared: Runnable<R>, session: Session): Run<R> {
  const lean = prepared as unknown as PostgresJsPrepared;
  // Should a drizzle release rename these fields, the statement takes drizzle's path instead.
  const known =
    typeof lean.queryString === 'string' && Array.isArray(lean.params) && 'fields' in lean;
  if (is(session, PostgresJsSession) && known && !lean.customResultMapper) {
    const { queryString, params, fields, joinsNotNullableMap } = lean;
    if (!fields) {
      return (s, values) =>
        unprepared(s.client as { unsafe: Unsafe }).unsafe(
          queryString,
          fillPlaceholders(params, values),
          preparing,
        ) as Promise<R>;
    }
    const map =
      flatRowMapper(fields) ?? ((row: unknown[]) => mapResultRow(fields, row, joinsNotNullableMap));
    return async (s, values) => {
      const rows = await unprepared(s.client as { unsafe: Unsafe })
        .unsafe(queryString, fillPlaceholders(params, values), preparing)
        .values();
      return rows.map(map) as R;
    };
  }
  return (s, values) => {
    if (prepared.client === s.client) return prepared.execute(values);
    const onCaller: Runnable<R> = Object.create(prepared, { client: { value: s.client } });
    return onCaller.execute(values);
  };
}

interface Decoder {
  mapFromDriverValue(value: unknown): unknown;
}

/**
 * drizzle's row mapping for a select of top-level fields, with each field's decoder looked up
 * once instead of for every value of every row. Nested fields (where joins' null rules apply,
 * mapResultRow's `path.length === 2`) get drizzle's mapper.
 */
function flatRowMapper(
  fields: unknown[],
): ((row: unknown[]) => Record<string, unknown>) | undefined {
  const names: string[] = [];
  const decoders: Decoder[] = [];
  for (const { path, field } of fields as { path: string[]; field: unknown }[]) {
    const decoder = is(field, Column)
      ? (field as Decoder)
      : is(field, SQL)
        ? (field as unknown as { decoder: Decoder }).decoder
        : is(field, SQL.Aliased)
          ? (field as unknown as { sql: { decoder: Decoder } }).sql.decoder
          : undefined;
    if (path.length !== 1 || !decoder) return undefined;
    names.push(path[0]!);
    decoders.push(decoder);
  }
  return (row) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) {
      const raw = row[i];
      out[names[i]!] = raw === null ? null : decoders[i]!.mapFromDriverValue(raw);
    }
    return out;
  };
}

/** What a query written in SQL needs of the database it is built on (drizzle-orm 0.45). */
interface Builds {
  dialect: { sqlToQuery(query: SQL): unknown };
  session: {
    prepareQuery(query: unknown, fields: undefined, name: string, arrayMode: false): never;
  };
}

/**
 * A statement written in SQL, for what drizzle's builders cannot say in one statement (a
 * data-modifying CTE). Rows come back as Postgres names them: alias columns with `as "camelCase"`.
 * drizzle's drivers hand over timestamps, JSON and bigints as text: name the columns in `decode`
 * (by alias) to have each value read as that column reads it.
 */
export function sqlStatement<V extends Values, R>(
  query: SQL,
  decode?: Record<string, Column>,
): (on: Queryable, values: V) => Promise<R[]> {
  const run = statement<V, R[] | { rows: R[] }>((on) => ({
    prepare(name) {
      const { dialect, session } = on as unknown as Builds;
      return session.prepareQuery(dialect.sqlToQuery(query), undefined, name, false);
    },
  }));
  const decoders = Object.entries(decode ?? {});
  // postgres.js answers with the rows, PGlite with a result that holds them.
  return async (on, values) => {
    const result = await run(on, values);
    const rows = Array.isArray(result) ? result : result.rows;
    for (const row of rows as Record<string, unknown>[]) {
      for (const [key, column] of decoders) {
        const raw = row[key];
        if (raw !== null && raw !== undefined) row[key] = column.mapFromDriverValue(raw);
      }
    }
    return rows;
  };
}

/**
 * A placeholder encoded as `column` encodes its values (a Date to the text Postgres reads, JSON
 * to its text). A bare `sql.placeholder` is sent as given, and drizzle's types keep it out of
 * `.set({...})`.
 */
export const placeholder = (column: Column, name: string): SQL =>
  sql`${new Param(sql.placeholder(name), column)}`;

/** A placeholder cast to a Postgres type, for statements written in SQL (`sqlStatement`). */
export const typed = (name: string, type: string): SQL =>
  sql`${sql.placeholder(name)}::${sql.raw(type)}`;

/** `{ name: sql.placeholder(name) }` for each name: the values of an insert built once. */
export function placeholders<K extends string>(...names: K[]): Record<K, Placeholder<K>> {
  return Object.fromEntries(names.map((name) => [name, sql.placeholder(name)])) as Record<
    K,
    Placeholder<K>
  >;
}

/** A query builder of drizzle's. */
type Buildable<R> = { prepare(name: string): Prepared<R> };

/**
 * A statement with an `in (...)` list: built once per list length up to `maxLength`, the list's
 * items as placeholders; a longer list is built on the call, with its items inline.
 */
export function listStatement<V extends Values, R>(
  maxLength: number,
  build: (on: Queryable, list: readonly unknown[]) => Buildable<R>,
): (on: Queryable, values: V, list: readonly unknown[]) => Promise<R> {
  const byLength: ((on: Queryable, values: Values) => Promise<R>)[] = [];
  return (on, values, list) => {
    const n = list.length;
    // drizzle's postgres.js and PGlite sessions ignore the name: the text is the statement's key.
    if (n > maxLength) return build(on, list).prepare('bunshop_list').execute(values);
    let run = byLength[n];
    if (!run) {
      const items = Array.from({ length: n }, (_, i) => sql.placeholder(`item${i}`));
      run = statement<Values, R>((q) => build(q, items));
      byLength[n] = run;
    }
    const all: Values = { ...values };
    for (let i = 0; i < n; i++) all[`item${i}`] = list[i];
    return run(on, all);
  };
}
