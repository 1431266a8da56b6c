import type { NatsConnection, Service } from 'nats';
import { type CallEdge, callMatrix } from '../observability/call-matrix.ts';
import type { Metrics } from '../observability/metrics.ts';
import { serviceName } from './subjects.ts';
import { encodeBody } from './wire.ts';

/** Metadata `kind` that tells a node's own service from its modules' services. */
export const nodeServiceKind = 'node';

/**
 * Every node, a gateway with no modules too, registers one micro service for itself:
 * discovery finds it, and its stats carry the node's call matrix (caller-side measurements).
 */
export async function serveNodeInfo(o: {
  nc: NatsConnection;
  prefix: string;
  nodeId: string;
  version: string;
  modules: readonly string[];
  gateway: boolean;
  metrics: Metrics;
}): Promise<Service> {
  const service = await o.nc.services.add({
    name: serviceName(o.prefix, 'node'),
    version: o.version,
    description: 'a bunshop node',
    metadata: {
      kind: nodeServiceKind,
      node: o.nodeId,
      modules: o.modules.join(','),
      gateway: String(o.gateway),
    },
    statsHandler: async () => ({ calls: await callMatrix(o.metrics) }),
  });
  service.addEndpoint('calls', {
    subject: `${o.prefix}.node.${o.nodeId.replace(/[^A-Za-z0-9_-]/g, '_')}.calls`,
    handler: (err, msg) => {
      if (err) return;
      void callMatrix(o.metrics).then((calls) => msg.respond(encodeBody({ calls })));
    },
  });
  return service;
}

/** The call matrix in a node service's stats, or none if it is not one. */
export function callsFromStats(data: unknown): CallEdge[] {
  const calls = (data as { calls?: unknown } | null)?.calls;
  return Array.isArray(calls) ? (calls as CallEdge[]) : [];
}
