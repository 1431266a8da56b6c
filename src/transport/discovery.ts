import { type NatsConnection, RequestStrategy, type ServiceStats } from 'nats';
import type { EndpointCount, NodeInfo } from '../gateway/ops.ts';
import { serviceName } from './subjects.ts';

/**
 * The live nodes of this deployment, read from the NATS micro protocol: every module
 * instance answers the stats request, and its metadata names its node and module.
 */
export async function discoverNodes(
  nc: NatsConnection,
  prefix: string,
  self: NodeInfo,
  now: number,
): Promise<NodeInfo[]> {
  const client = nc.services.client({ strategy: RequestStrategy.Timer, maxWait: 500 });
  const ours = serviceName(prefix, '');
  const nodes = new Map<string, NodeInfo>([[self.nodeId, { ...self, endpoints: [] }]]);
  for await (const s of (await client.stats()) as AsyncIterable<
    ServiceStats & { metadata?: Record<string, string> }
  >) {
    const node = s.metadata?.node;
    const module = s.metadata?.module;
    if (!node || !module || !s.name.startsWith(ours)) continue;
    const entry = nodes.get(node) ?? {
      nodeId: node,
      version: s.version,
      modules: [],
      startedAt: s.started,
      uptimeSeconds: Math.max(0, Math.round((now - Date.parse(s.started)) / 1000)),
      endpoints: [],
    };
    if (!entry.modules.includes(module)) entry.modules.push(module);
    for (const e of s.endpoints ?? []) {
      entry.endpoints!.push({
        module,
        action: e.name,
        requests: e.num_requests,
        errors: e.num_errors,
      } satisfies EndpointCount);
    }
    nodes.set(node, entry);
  }
  return [...nodes.values()].sort((a, b) => a.nodeId.localeCompare(b.nodeId));
}
