import type { Context } from 'hono';
import * as v from 'valibot';
import type { CallContext } from '../context.ts';
import type { ClientOf, Contract, Schema } from '../contract.ts';
import { AppError } from '../errors.ts';
import type { CursorCodec } from './cursor.ts';
import type { SignInLimiter } from './rate-limit.ts';
import type { TokenService } from './tokens.ts';

export type Auth = 'public' | 'user' | 'admin';
export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

type Out<S> = S extends Schema ? v.InferOutput<S> : undefined;

export interface RouteRequest<B, Q> {
  hono: Context;
  ctx: CallContext;
  body: Out<B>;
  query: Out<Q>;
  param(name: string): string;
  header(name: string): string | undefined;
  /** The client's address: the socket peer, or the proxy's word when TRUST_PROXY is on. */
  clientAddress: string;
}

/** One HTTP route: its contract for docs and validation, and a thin handler. */
export interface RouteDef<
  B extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
> {
  method: Method;
  /** Hono path template, e.g. `/users/:id`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  auth: Auth;
  body?: B;
  query?: Q;
  /** Request headers worth documenting, e.g. `Idempotency-Key`. */
  headers?: Record<string, string>;
  responses: Record<number, { description: string; schema?: Schema; headers?: string[] }>;
  handle(req: RouteRequest<B, Q>): Promise<Response>;
}

// biome-ignore lint/suspicious/noExplicitAny: a registry holds routes of every body type
export type AnyRoute = RouteDef<any, any>;

/** What a module's routes.ts receives: route registration and the gateway's services. */
export interface Api {
  route<B extends Schema | undefined = undefined, Q extends Schema | undefined = undefined>(
    def: RouteDef<B, Q>,
  ): void;
  client<C extends Contract>(contract: C): ClientOf<C>;
  tokens: TokenService;
  cursors: CursorCodec;
  signIn: SignInLimiter;
}

/** `{ limit, cursor }` query of every list; limit 1..100, default 20. */
export const pageQuery = v.object({
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,3}$/, 'must be a whole number from 1 to 100'),
      v.transform(Number),
      v.minValue(1, 'must be a whole number from 1 to 100'),
      v.maxValue(100, 'must be a whole number from 1 to 100'),
    ),
    '20',
  ),
  cursor: v.optional(v.pipe(v.string(), v.minLength(1, 'must not be empty'))),
});

/** A page as API.md shapes it. */
export const pageOf = <S extends Schema>(item: S) =>
  v.object({ items: v.array(item), nextCursor: v.nullable(v.string()) });

/** Validates an Idempotency-Key header: 1..255 printable ASCII characters. */
export function idempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (/^[\x21-\x7e][\x20-\x7e]{0,254}$/.test(value) && !value.endsWith(' ')) return value;
  throw new AppError('validation', 'Idempotency-Key must be 1 to 255 printable ASCII characters.', {
    errors: [{ path: 'Idempotency-Key', message: 'must be 1 to 255 printable ASCII characters' }],
  });
}

const jsonType = { 'content-type': 'application/json' };

export function json(body: unknown, status = 200, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status,
    // The Response copies its headers: one shared object serves every plain answer.
    headers: headers ? { ...jsonType, ...headers } : jsonType,
  });
}
