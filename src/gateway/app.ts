import {
  context,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { type Context, Hono } from 'hono';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import type { Clock } from '../clock.ts';
import { anonymous, type CallContext, saneRequestId } from '../context.ts';
import type { Schema } from '../contract.ts';
import { AppError, toAppError } from '../errors.ts';
import type { Logger } from '../observability/log.ts';
import type { Metrics } from '../observability/metrics.ts';
import { withRequestId } from '../observability/scope.ts';
import { contextFromHeaders, SpanKind, tracer, tracingOn } from '../observability/tracing.ts';
import type { Router } from '../transport/router.ts';
import { parseOrThrow } from '../validation.ts';
import type { AnyRoute, Api, RouteRequest } from './api.ts';
import { readJsonBody } from './body.ts';
import { CursorCodec } from './cursor.ts';
import type { PrincipalLookup } from './principals.ts';
import { notFound, problemResponse } from './problem.ts';
import { SignInLimiter, type SignInLimits, WindowCounter } from './rate-limit.ts';
import { allowedMethods, matchable } from './routing.ts';
import { TokenService } from './tokens.ts';

export interface GatewayOptions {
  router: Router;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
  jwtSecret: string;
  tokenTtlSeconds: number;
  requestTimeoutMs: number;
  bodyLimitBytes: number;
  signIn: SignInLimits;
  /** Requests per client address per minute; 0 turns the general limit off. */
  requestsPerMinute: number;
  trustProxy: boolean;
  /** Resolves a token's subject to the account as it is now (from the module that owns accounts). */
  principal?: PrincipalLookup;
  /** Module route registrations, then the kernel's own (health, metrics, docs). */
  mount: ((api: Api) => void)[];
}

/** A route's work once the envelope has admitted the request. */
type Handle = (c: Context, requestId: string) => Response | Promise<Response>;

const templates = new Map<string, string>();
/** Templates as API.md and the OpenAPI document write them: /orders/{id} (a few, so cached). */
function templateOf(route: string): string {
  let template = templates.get(route);
  if (template === undefined) {
    template = route.replace(/:([A-Za-z]+)/g, '{$1}');
    templates.set(route, template);
  }
  return template;
}

/**
 * Probes skip the general limit: behind a proxy without TRUST_PROXY every client shares one
 * address, and a 429 to a liveness probe would get a healthy node restarted.
 */
const unlimited = new Set(['/health/live', '/health/ready']);
/** Probes and scrapes: no span, and their access log lines only at debug level. */
const routine = new Set([...unlimited, '/metrics']);

/** Builds the HTTP gateway: every route, the error model and the cross-cutting limits. */
export function createGateway(o: GatewayOptions) {
  // RegExpRouter, not the trie Hono would fall back to: see `matchable`. A route it cannot
  // match stops the node at start-up instead of slowing every request.
  const app = new Hono({ router: new RegExpRouter() });
  const routes: AnyRoute[] = [];
  const api: Api = {
    route: (def) => void routes.push(def as AnyRoute),
    client: (contract) => o.router.client(contract),
    tokens: new TokenService(o.jwtSecret, o.tokenTtlSeconds, o.clock.now),
    cursors: new CursorCodec(o.jwtSecret),
    signIn: new SignInLimiter(o.signIn, o.clock),
  };
  for (const mount of o.mount) mount(api);
  const general =
    o.requestsPerMinute > 0 ? new WindowCounter(o.requestsPerMinute, 60_000, o.clock) : undefined;

  /** Refusals before the route runs: an oversized body, a client over the general limit. */
  const admit = (c: Context, handle: Handle, requestId: string): Response | Promise<Response> => {
    // A GET's or HEAD's body is never read: no header to look up on the busiest requests.
    const bodiless = c.req.method === 'GET' || c.req.method === 'HEAD';
    const declared = bodiless ? 0 : Number(c.req.raw.headers.get('content-length') ?? 0);
    if (declared > o.bodyLimitBytes) {
      throw new AppError(
        'payload_too_large',
        `The request body is over ${o.bodyLimitBytes / 1024} KiB.`,
      );
    }
    if (general && !unlimited.has(c.req.path)) {
      const address = clientAddress(c.req.raw, c.env, o.trustProxy);
      const retryAfter = general.retryAfter(address);
      if (retryAfter > 0)
        throw new AppError('rate_limited', 'Too many requests; slow down.', { retryAfter });
      general.hit(address);
    }
    return handle(c, requestId);
  };

  /**
   * What every request gets, matched or not: a request id, a span, the limits, the error model,
   * a metric and a log line. It wraps each handler instead of being Hono middleware, so a matched
   * request is one handler call: no compose, no `next()` promise, no context variables.
   * `template` labels the metric, span and log line: the route's, or `unmatched`.
   */
  const envelope = (template: string, handle: Handle) => {
    const route = templateOf(template);
    return async (c: Context): Promise<Response> => {
      const started = performance.now();
      // The request's Headers, once: Hono's `c.req.header` looks the object up on each call.
      const headers = c.req.raw.headers;
      const given = headers.get('x-request-id');
      const requestId = given && saneRequestId.test(given) ? given : crypto.randomUUID();
      const method = c.req.method;
      const path = c.req.path;
      const quiet = routine.has(path);
      // A caller's traceparent makes this request part of its trace; malformed ones are ignored.
      const parent = headers.get('traceparent')
        ? contextFromHeaders((name) => headers.get(name) ?? undefined)
        : ROOT_CONTEXT;
      const traced = !quiet && tracingOn();
      // Untraced, the span is the caller's passed through; with no caller's trace, there is none.
      const span = traced
        ? tracer.startSpan(
            method,
            {
              kind: SpanKind.SERVER,
              attributes: { 'http.request.method': method, 'url.path': path },
            },
            parent,
          )
        : parent === ROOT_CONTEXT
          ? undefined
          : trace.wrapSpanContext(trace.getSpanContext(parent) ?? INVALID_SPAN_CONTEXT);
      // Without a span there is nothing to carry but the request id.
      const carried = span ? trace.setSpan(parent, span) : parent;
      let res: Response;
      try {
        res = await context.with(
          withRequestId(carried, requestId),
          admit,
          undefined,
          c,
          handle,
          requestId,
        );
      } catch (err) {
        res = failed(err, route, requestId);
      }
      const status = res.status;
      res.headers.set('x-request-id', requestId);
      const seconds = (performance.now() - started) / 1000;
      o.metrics.http.observe([method, route, String(status)], seconds);
      if (traced && span) {
        span.updateName(`${method} ${route}`);
        span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
      const level = quiet ? 'debug' : 'info';
      if (!o.log.enabled(level)) return res;
      const ids = span?.spanContext() ?? INVALID_SPAN_CONTEXT;
      o.log[level]('request', {
        method,
        route,
        path,
        status,
        ms: Math.round(seconds * 10_000) / 10,
        requestId,
        ...(isSpanContextValid(ids) ? { traceId: ids.traceId } : {}),
        // Without tracing the span is the caller's, passed through: its id is not this node's.
        ...(span?.isRecording() ? { spanId: ids.spanId } : {}),
      });
      return res;
    };
  };

  /** The route's request as its handler sees it, once the caller and the body are known. */
  const requestOf = (def: AnyRoute, c: Context, ctx: CallContext, body: unknown): HandlerRequest =>
    new HandlerRequest(
      c,
      ctx,
      def.body ? parseOrThrow(def.body, body, 'request body') : undefined,
      def.query ? parseOrThrow(def.query, c.req.query(), 'query string') : undefined,
      o.trustProxy,
    );

  const routeHandler = (def: AnyRoute): Handle => {
    // A public route without a body has nothing to wait for before its handler: no extra step.
    if (def.auth === 'public' && !def.body) {
      return (c, requestId) =>
        def.handle(requestOf(def, c, publicContext(o, requestId), undefined));
    }
    return async (c, requestId) => {
      const ctx =
        def.auth === 'public'
          ? publicContext(o, requestId)
          : await callContext(c.req.header('authorization'), def.auth, api.tokens, o, requestId);
      const body = def.body ? await readJsonBody(c.req.raw, o.bodyLimitBytes) : undefined;
      return def.handle(requestOf(def, c, ctx, body));
    };
  };

  for (const [method, path, handler] of matchable(routes, (def) =>
    envelope(def.path, routeHandler(def)),
  )) {
    app.on(method, path, handler);
  }
  const allowed = allowedMethods(routes);

  // 404, 405 and OPTIONS: the path is looked up once, for the answer and for its labels.
  app.notFound((c) => {
    const methods = allowed(c.req.path);
    return envelope(methods?.template ?? 'unmatched', () => {
      if (!methods) return problemResponse(notFound());
      if (c.req.method === 'OPTIONS')
        return new Response(null, { status: 204, headers: { allow: methods.allow } });
      return problemResponse(
        new AppError(
          'method_not_allowed',
          `${c.req.method} is not served here; use ${methods.allow}.`,
        ),
        { allow: methods.allow },
      );
    })(c);
  });

  function failed(err: unknown, route: string, requestId: string | undefined): Response {
    const appError = toAppError(err);
    if (appError.code === 'internal') o.log.error('request failed', { requestId, route, err });
    return problemResponse(appError);
  }
  // Only for a failure outside every envelope (Hono's own); envelopes answer their own errors.
  app.onError((err, c) => {
    const given = c.req.header('x-request-id');
    return failed(err, 'unmatched', given && saneRequestId.test(given) ? given : undefined);
  });

  return { app, routes, api };
}

/** The route's request as its handler sees it: a class, so its getter is not made per request. */
class HandlerRequest implements RouteRequest<Schema | undefined, Schema | undefined> {
  readonly param: (name: string) => string;
  readonly header: (name: string) => string | undefined;

  constructor(
    readonly hono: Context,
    readonly ctx: CallContext,
    readonly body: unknown,
    readonly query: unknown,
    private readonly trustProxy: boolean,
  ) {
    // Own functions, not methods: handlers destructure them (`({ param }) => param('id')`).
    this.param = (name) => hono.req.param(name) ?? '';
    this.header = (name) => hono.req.header(name);
  }

  /** Looked up only by the routes that use it (sign-in limits): it is not free. */
  get clientAddress(): string {
    return clientAddress(this.hono.req.raw, this.hono.env, this.trustProxy);
  }
}

/** An anonymous caller's context: a public route needs no token, so nothing to await. */
function publicContext(o: GatewayOptions, requestId: string): CallContext {
  return { deadline: o.clock.now() + o.requestTimeoutMs, caller: anonymous, requestId };
}

async function callContext(
  authorization: string | undefined,
  auth: Exclude<AnyRoute['auth'], 'public'>,
  tokens: TokenService,
  o: GatewayOptions,
  requestId: string,
): Promise<CallContext> {
  const ctx = publicContext(o, requestId);
  // The scheme is case-insensitive (RFC 9110 section 11.1).
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(authorization ?? '');
  if (!match?.[1])
    throw new AppError('unauthorized', 'The access token is missing, invalid or expired.');
  const claims = tokens.verify(match[1]);
  // The account as it is now: a deleted user's token is refused, a demoted admin is a customer.
  const current = o.principal ? await o.principal(claims.userId, ctx) : { role: claims.role };
  if (!current)
    throw new AppError('unauthorized', 'The access token is missing, invalid or expired.');
  ctx.caller = { kind: 'user', userId: claims.userId, role: current.role };
  if (auth === 'admin' && current.role !== 'admin') {
    throw new AppError('forbidden', 'This route needs an admin account.');
  }
  return ctx;
}

function clientAddress(request: Request, env: unknown, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded =
      request.headers.get('fly-client-ip') ??
      request.headers.get('x-forwarded-for')?.split(',').at(-1);
    if (forwarded?.trim()) return forwarded.trim();
  }
  const server = (
    env as { server?: { requestIP(r: Request): { address: string } | null } } | undefined
  )?.server;
  return server?.requestIP(request)?.address ?? 'unknown';
}
