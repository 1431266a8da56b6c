import {
  ErrorCode,
  type NatsConnection,
  NatsError,
  RequestStrategy,
  type ServiceStats,
} from 'nats';
import type { EndpointCount, NodeInfo } from '../gateway/ops.ts';
import { formatMatrix, mergeMatrices } from '../observability/call-matrix.ts';
import { callsFromStats, nodeServiceKind } from './node-service.ts';
import { servicePrefix } from './subjects.ts';

/**
 * The live nodes of this deployment, read from the NATS micro protocol: every module
 * instance answers the stats request, and its metadata names its node and module.
 */
export async function discoverNodes(
  nc: NatsConnection,
  prefix: string,
  self: NodeInfo | undefined,
  now: number,
): Promise<NodeInfo[]> {
  const client = nc.services.client({ strategy: RequestStrategy.Timer, maxWait: 500 });
  const ours = servicePrefix(prefix);
  const nodes = new Map<string, NodeInfo>(self ? [[self.nodeId, { ...self, endpoints: [] }]] : []);
  type Stats = ServiceStats & { metadata?: Record<string, string> };
  const answers = (await client.stats()) as AsyncIterable<Stats>;
  for await (const s of noRespondersAsEmpty(answers)) {
    const node = s.metadata?.node;
    const module = s.metadata?.module;
    const isNode = s.metadata?.kind === nodeServiceKind;
    if (!node || !(module || isNode) || !s.name.startsWith(ours)) continue;
    const entry = nodes.get(node) ?? {
      nodeId: node,
      version: s.version,
      modules: [],
      startedAt: s.started,
      uptimeSeconds: Math.max(0, Math.round((now - Date.parse(s.started)) / 1000)),
      endpoints: [],
    };
    nodes.set(node, entry);
    if (isNode || !module) {
      entry.calls = callsFromStats(s.endpoints?.[0]?.data);
      continue;
    }
    if (!entry.modules.includes(module)) entry.modules.push(module);
    for (const e of s.endpoints ?? []) {
      entry.endpoints!.push({
        module,
        action: e.name,
        requests: e.num_requests,
        errors: e.num_errors,
      } satisfies EndpointCount);
    }
  }
  return [...nodes.values()].sort((a, b) => a.nodeId.localeCompare(b.nodeId));
}

/** `bunshop nodes`: one line per node, then its endpoints with request and error counts. */
export function formatNodes(nodes: readonly NodeInfo[]): string {
  if (nodes.length === 0) return 'no bunshop nodes answered on this NATS and subject prefix\n';
  const lines: string[] = [];
  for (const n of nodes) {
    lines.push(
      `${n.nodeId}  version ${n.version}  up ${n.uptimeSeconds}s  modules ${n.modules.join(',') || '(gateway only)'}`,
    );
    for (const e of n.endpoints ?? []) {
      lines.push(
        `    ${`${e.module}.${e.action}`.padEnd(28)} ${String(e.requests).padStart(8)} requests ${String(e.errors).padStart(6)} errors`,
      );
    }
  }
  const matrix = mergeMatrices(nodes.map((n) => n.calls ?? []));
  return `${lines.join('\n')}\n\n${formatMatrix(matrix)}`;
}

/** With no service at all on a prefix, NATS answers "no responders": that is an empty list. */
async function* noRespondersAsEmpty<T>(answers: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* answers;
  } catch (err) {
    if (!(err instanceof NatsError && err.code === ErrorCode.NoResponders)) throw err;
  }
}
