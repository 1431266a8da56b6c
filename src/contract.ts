import type * as v from 'valibot';
import type { CallContext } from './context.ts';

// biome-ignore lint/suspicious/noExplicitAny: valibot's generic schema needs an any issue type here
export type Schema = v.GenericSchema<any, any, any>;

/** One action a module serves: what it takes, what it returns, and whether a retry is safe. */
export interface ActionDef<I extends Schema = Schema, O extends Schema = Schema> {
  input: I;
  output: O;
  /** Safe to retry after an unknown outcome (the transport retries only these). */
  idempotent: boolean;
  summary: string;
}

/** A fact a module publishes after it happened. */
export interface EventDef<P extends Schema = Schema> {
  /** `<module>.<event>`, filled in by defineContract. */
  name: string;
  payload: P;
  summary: string;
}

export interface Contract<
  N extends string = string,
  A extends Record<string, ActionDef> = Record<string, ActionDef>,
  E extends Record<string, EventDef> = Record<string, EventDef>,
> {
  name: N;
  actions: A;
  events: E;
}

/** Declares an action. */
export function action<I extends Schema, O extends Schema>(def: ActionDef<I, O>): ActionDef<I, O> {
  return def;
}

/** Declares an event; its full name is set by defineContract. */
export function event<P extends Schema>(payload: P, summary: string): EventDef<P> {
  return { name: '', payload, summary };
}

/** Fixes a module's contract: the only thing another module may import from it. */
export function defineContract<
  N extends string,
  A extends Record<string, ActionDef>,
  E extends Record<string, EventDef> = Record<never, EventDef>,
>(name: N, actions: A, events?: E): Contract<N, A, E> {
  const named = Object.fromEntries(
    Object.entries(events ?? {}).map(([key, def]) => [key, { ...def, name: `${name}.${key}` }]),
  ) as E;
  return { name, actions, events: named };
}

type Actions<C extends Contract> = C['actions'];

/** What a module implements: input already validated, output validated on return. */
export type ServiceOf<C extends Contract> = {
  [K in keyof Actions<C>]: (
    input: v.InferOutput<Actions<C>[K]['input']>,
    ctx: CallContext,
  ) => Promise<v.InferInput<Actions<C>[K]['output']>>;
};

/** What a caller gets: the same methods, wherever the module runs. */
export type ClientOf<C extends Contract> = {
  [K in keyof Actions<C>]: (
    input: v.InferInput<Actions<C>[K]['input']>,
    ctx: CallContext,
  ) => Promise<v.InferOutput<Actions<C>[K]['output']>>;
};

export type EventPayload<E extends EventDef> = v.InferOutput<E['payload']>;
