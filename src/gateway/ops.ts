import scalarBundle from '@scalar/api-reference/browser/standalone.js' with { type: 'file' };
import * as v from 'valibot';
import { AppError } from '../errors.ts';
import type { CallEdge } from '../observability/call-matrix.ts';
import type { Logger } from '../observability/log.ts';
import { type Metrics, render } from '../observability/metrics.ts';
import type { AnyRoute, Api } from './api.ts';
import { json } from './api.ts';
import { openApiDocument } from './openapi.ts';
import { problemResponse } from './problem.ts';

export interface CheckResult {
  ok: boolean;
  detail?: string;
}

export type ReadinessChecks = Record<string, () => Promise<CheckResult>>;

/** A node as `GET /admin/nodes` shows it: what it hosts, its version and how long it has run. */
export interface NodeInfo {
  nodeId: string;
  version: string;
  modules: string[];
  startedAt: string;
  uptimeSeconds: number;
  /** Per module action: requests served and errors answered, from NATS service stats. */
  endpoints?: EndpointCount[];
  /** Calls this node made, by caller and target module: its part of the call matrix. */
  calls?: CallEdge[];
}

export interface EndpointCount {
  module: string;
  action: string;
  requests: number;
  errors: number;
}

const nodeInfo = v.object({
  nodeId: v.string(),
  version: v.string(),
  modules: v.array(v.string()),
  startedAt: v.string(),
  uptimeSeconds: v.number(),
  endpoints: v.optional(
    v.array(
      v.object({
        module: v.string(),
        action: v.string(),
        requests: v.number(),
        errors: v.number(),
      }),
    ),
  ),
  calls: v.optional(
    v.array(
      v.object({
        caller: v.string(),
        module: v.string(),
        transport: v.string(),
        calls: v.number(),
        errors: v.number(),
        meanMs: v.number(),
        p99Ms: v.number(),
      }),
    ),
  ),
});

const docsPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>bunshop API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><script id="api-reference" data-url="/openapi.json"></script>
<script src="/docs/scalar.js"></script></body></html>`;

const ok = v.object({ status: v.string() });

/** A probe must answer quickly even when a dependency hangs (a dropped network, a stuck pool). */
const checkTimeoutMs = 2_000;

class CheckTimeout extends Error {}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Health, metrics, the OpenAPI document and the reference page. */
export function mountOps(
  api: Api,
  o: {
    metrics: Metrics;
    checks: ReadinessChecks;
    version: string;
    routes: () => readonly AnyRoute[];
    /** Where failing readiness checks are logged in full (their bodies stay general). */
    log?: Logger;
    /** The nodes discovered now (this one alone in local mode); without it, no /admin/nodes. */
    nodes?: () => Promise<NodeInfo[]>;
  },
) {
  api.route({
    method: 'get',
    path: '/health/live',
    tag: 'operations',
    summary: 'Liveness',
    auth: 'public',
    responses: { 200: { description: 'The process is running.', schema: ok } },
    handle: async () => json({ status: 'ok' }),
  });
  api.route({
    method: 'get',
    path: '/health/ready',
    tag: 'operations',
    summary: 'Readiness',
    auth: 'public',
    responses: {
      200: { description: 'Every dependency is ready.', schema: ok },
      503: { description: 'A dependency is not ready.' },
    },
    handle: async () => {
      const entries = await Promise.all(
        Object.entries(o.checks).map(
          async ([name, check]) =>
            [
              name,
              await withTimeout(check(), checkTimeoutMs).catch((err: unknown) => {
                // The error may name hosts, drivers or SQL: log it, answer in general terms.
                o.log?.warn('readiness check failed', { check: name, err });
                const detail =
                  err instanceof CheckTimeout ? err.message : 'the check failed; see the node log';
                return { ok: false, detail };
              }),
            ] as const,
        ),
      );
      const checks = Object.fromEntries(entries);
      if (entries.every(([, r]) => r.ok)) return json({ status: 'ready', checks });
      const res = problemResponse(
        new AppError('unavailable', 'A dependency of this node is not ready.', { retryAfter: 5 }),
      );
      const body = { ...((await res.json()) as object), checks };
      return new Response(JSON.stringify(body), { status: 503, headers: res.headers });
    },
  });
  api.route({
    method: 'get',
    path: '/metrics',
    tag: 'operations',
    summary: 'Prometheus metrics',
    auth: 'public',
    responses: { 200: { description: 'Prometheus text exposition.' } },
    handle: async () => metricsResponse(o.metrics),
  });
  const nodes = o.nodes;
  if (nodes) {
    api.route({
      method: 'get',
      path: '/admin/nodes',
      tag: 'operations',
      summary: 'Discovered nodes',
      auth: 'admin',
      description: 'The nodes and module instances currently discovered, with version and uptime.',
      responses: {
        200: { description: 'The nodes.', schema: v.object({ nodes: v.array(nodeInfo) }) },
      },
      handle: async () => json({ nodes: await nodes() }),
    });
  }
  let document: unknown;
  api.route({
    method: 'get',
    path: '/openapi.json',
    tag: 'operations',
    summary: 'OpenAPI 3.1 document',
    auth: 'public',
    responses: { 200: { description: 'This document.' } },
    handle: async () => {
      document ??= openApiDocument(o.routes(), o.version);
      return json(document);
    },
  });
  api.route({
    method: 'get',
    path: '/docs',
    tag: 'operations',
    summary: 'Interactive API reference',
    auth: 'public',
    responses: { 200: { description: 'An HTML page.' } },
    handle: async () =>
      new Response(docsPage, { headers: { 'content-type': 'text/html; charset=utf-8' } }),
  });
  api.route({
    method: 'get',
    path: '/docs/scalar.js',
    tag: 'operations',
    summary: 'Script of the reference page',
    auth: 'public',
    responses: { 200: { description: 'JavaScript.' } },
    handle: async () =>
      new Response(Bun.file(scalarBundle), {
        headers: {
          'content-type': 'text/javascript; charset=utf-8',
          'cache-control': 'public, max-age=86400',
        },
      }),
  });
}

/** The Prometheus exposition, for `/metrics` on the API port and on `--metrics-port`. */
export async function metricsResponse(metrics: Metrics): Promise<Response> {
  return new Response(await render(metrics), {
    headers: { 'content-type': metrics.registry.contentType },
  });
}
