import type { Metrics } from './metrics.ts';

/** Calls from one module (or the gateway) to another, as this node's callers measured them. */
export interface CallEdge {
  caller: string;
  module: string;
  transport: string;
  calls: number;
  errors: number;
  meanMs: number;
  /** Upper bound of the latency bucket holding the 99th percentile. */
  p99Ms: number;
}

/** The call matrix from this node's metrics: which modules talk to which, how often, how slowly. */
export async function callMatrix(metrics: Metrics): Promise<CallEdge[]> {
  const { values } = await metrics.calls.histogram.get();
  const edges = new Map<string, CallEdge & { sum: number; buckets: Map<number, number> }>();
  for (const { labels, value, metricName } of values) {
    const key = `${labels.caller}>${labels.module}>${labels.transport}`;
    const edge = edges.get(key) ?? {
      caller: String(labels.caller),
      module: String(labels.module),
      transport: String(labels.transport),
      calls: 0,
      errors: 0,
      meanMs: 0,
      p99Ms: 0,
      sum: 0,
      buckets: new Map<number, number>(),
    };
    edges.set(key, edge);
    if (metricName?.endsWith('_count')) {
      edge.calls += value;
      if (labels.code !== 'ok') edge.errors += value;
    } else if (metricName?.endsWith('_sum')) edge.sum += value;
    else if (metricName?.endsWith('_bucket')) {
      const bound = (labels as Record<string, string | number>).le;
      const le = bound === '+Inf' ? Number.POSITIVE_INFINITY : Number(bound);
      edge.buckets.set(le, (edge.buckets.get(le) ?? 0) + value);
    }
  }
  return [...edges.values()]
    .filter((e) => e.calls > 0)
    .map(({ sum, buckets, ...edge }) => ({
      ...edge,
      meanMs: round((sum / edge.calls) * 1000),
      p99Ms: round(percentileBound(buckets, edge.calls * 0.99) * 1000),
    }))
    .sort((a, b) => b.calls - a.calls);
}

function percentileBound(buckets: Map<number, number>, rank: number): number {
  const sorted = [...buckets.entries()].sort(([a], [b]) => a - b);
  const hit = sorted.find(([, cumulative]) => cumulative >= rank);
  const bound = hit?.[0] ?? Number.POSITIVE_INFINITY;
  // Past the last finite bucket the bound is unknown: report the last finite one.
  return Number.isFinite(bound) ? bound : (sorted.at(-2)?.[0] ?? 0);
}

const round = (n: number) => Math.round(n * 10) / 10;

/** Adds up the matrices of several nodes, e.g. every node's for `bunshop nodes`. */
export function mergeMatrices(matrices: readonly CallEdge[][]): CallEdge[] {
  const merged = new Map<string, CallEdge>();
  for (const edge of matrices.flat()) {
    const key = `${edge.caller}>${edge.module}>${edge.transport}`;
    const seen = merged.get(key);
    if (!seen) merged.set(key, { ...edge });
    else {
      const calls = seen.calls + edge.calls;
      seen.meanMs = round((seen.meanMs * seen.calls + edge.meanMs * edge.calls) / calls);
      seen.p99Ms = Math.max(seen.p99Ms, edge.p99Ms);
      seen.calls = calls;
      seen.errors += edge.errors;
    }
  }
  return [...merged.values()].sort((a, b) => b.calls - a.calls);
}

/** Text for `bunshop nodes`: one line per caller → module edge. */
export function formatMatrix(edges: readonly CallEdge[]): string {
  if (edges.length === 0) return 'call matrix: no module calls yet\n';
  const lines = ['call matrix (caller -> module, since each node started):'];
  for (const e of edges) {
    const pair = `${e.caller} -> ${e.module}`.padEnd(24);
    lines.push(
      `    ${pair} ${e.transport.padEnd(6)} ${String(e.calls).padStart(8)} calls ${String(e.errors).padStart(6)} errors  mean ${e.meanMs} ms  p99 <= ${e.p99Ms} ms`,
    );
  }
  return `${lines.join('\n')}\n`;
}
