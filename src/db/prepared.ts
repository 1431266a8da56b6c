import type postgres from 'postgres';

// biome-ignore lint/suspicious/noExplicitAny: any custom types; only `unsafe` is touched
type Client = postgres.Sql<any>;
type Unsafe = Client['unsafe'];

/**
 * drizzle-orm asks postgres.js to prepare only queries given a name (`.prepare('name')`); every
 * other query goes out as an unnamed statement, described first: two round trips and the whole
 * SQL text each time. This client prepares all of them once per connection instead, which
 * halves the round trips of a write. postgres.js keys its statement cache by SQL text and
 * parameter types, re-prepares after a schema change, and drizzle's texts are a finite set.
 */
export function preparingAll<T extends Client>(client: T): T {
  // Made once: the proxy is asked for `unsafe` on every query.
  const unsafe = ((query, params, options) =>
    client.unsafe(query, params, { ...options, prepare: true })) as Unsafe;
  const proxy = new Proxy(client, {
    get(target, key, receiver) {
      if (key === 'unsafe') return unsafe;
      if (key === 'begin' || key === 'savepoint') {
        const open = Reflect.get(target, key, receiver) as (...args: unknown[]) => unknown;
        return (...args: unknown[]) =>
          open.apply(
            target,
            args.map((arg) =>
              typeof arg === 'function'
                ? (tx: Client) => (arg as (tx: Client) => unknown)(preparingAll(tx))
                : arg,
            ),
          );
      }
      return Reflect.get(target, key, receiver);
    },
  });
  unwrapped.set(proxy, client);
  return proxy;
}

const unwrapped = new WeakMap<object, Client>();

/**
 * The postgres.js client behind a `preparingAll` proxy, for callers that ask for prepared
 * statements themselves (`statement`): a proxy's trap and the options' copy on every query
 * cost more than this lookup. Any other client is returned as it is.
 */
export function unprepared<T extends object>(client: T): T {
  return (unwrapped.get(client) as T | undefined) ?? client;
}
