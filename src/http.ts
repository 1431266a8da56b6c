import type { Server } from 'bun';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import { AppError } from './errors.ts';
import { createGateway } from './gateway/app.ts';
import { mountOps, type NodeInfo, type ReadinessChecks } from './gateway/ops.ts';
import { cachedPrincipals } from './gateway/principals.ts';
import { problemResponse } from './gateway/problem.ts';
import type { ModuleDefinition } from './module.ts';
import type { Logger } from './observability/log.ts';
import type { Metrics } from './observability/metrics.ts';
import type { Router } from './transport/router.ts';

/**
 * The HTTP handler: the whole API on a gateway node; on other nodes only the operations
 * routes (health, metrics), so every node can be probed and scraped. Built before the
 * modules are hosted; `listenEarly`'s server takes it once they are.
 */
export function httpHandler(o: {
  config: Config;
  defs: readonly ModuleDefinition[];
  router: Router;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
  version: string;
  checks: ReadinessChecks;
  nodes: () => Promise<NodeInfo[]>;
}): (request: Request, server: Server<undefined>) => Response | Promise<Response> {
  const { config } = o;
  const lookup = o.defs.find((d) => d.principal)?.principal?.(o.router);
  const { app, routes } = createGateway({
    router: o.router,
    metrics: o.metrics,
    log: o.log,
    clock: o.clock,
    jwtSecret: config.jwtSecret,
    tokenTtlSeconds: config.tokenTtlSeconds,
    requestTimeoutMs: config.requestTimeoutMs,
    bodyLimitBytes: 64 * 1024,
    signIn: {
      perEmail: config.signinMaxPerEmail,
      perAddress: config.signinMaxPerAddress,
      windowSeconds: config.signinWindowSeconds,
    },
    requestsPerMinute: config.rateLimitPerMinute,
    trustProxy: config.trustProxy,
    principal: lookup ? cachedPrincipals(lookup, o.clock) : undefined,
    mount: [
      ...(config.gateway ? o.defs.flatMap((d) => (d.routes ? [d.routes] : [])) : []),
      (api) =>
        mountOps(api, {
          metrics: o.metrics,
          version: o.version,
          routes: () => routes,
          log: o.log,
          nodes: o.nodes,
          checks: o.checks,
        }),
    ],
  });
  // Hono compiles its route matcher on the first request: do it now, while the database connects.
  app.router.match('GET', '/health/ready');
  return (request, server) => app.fetch(request, { server });
}

/**
 * Binds the port at once, before migrations and connections: while the node starts,
 * liveness answers 200 and everything else 503, so orchestrators can tell "starting" from "dead".
 */
export function listenEarly(config: Config): Server<undefined> {
  const starting = new AppError('unavailable', 'This node is starting; try again shortly.', {
    retryAfter: 1,
  });
  return Bun.serve({
    port: config.port,
    hostname: config.host,
    // The gateway refuses bodies over 64 KiB itself, with a problem document; Bun's own 413 has none.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    fetch: (request) =>
      new URL(request.url).pathname === '/health/live'
        ? Response.json({ status: 'starting' })
        : problemResponse(starting),
  });
}
