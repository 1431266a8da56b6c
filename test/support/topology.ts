import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteEventStream } from './nats.ts';
import { type NodeProcess, spawnNode } from './process.ts';

/** The five-node topology of the README, plus a second order node: each its own process. */
export const roles = [
  { id: 'user', modules: 'user' },
  { id: 'inventory', modules: 'inventory' },
  { id: 'payment', modules: 'payment' },
  { id: 'order-1', modules: 'order' },
  { id: 'order-2', modules: 'order' },
] as const;

export interface Topology {
  prefix: string;
  gateway: NodeProcess;
  nodes: Map<string, NodeProcess>;
  stop(): Promise<void>;
}

/**
 * Starts every role as a separate bunshop process on NATS with a subject prefix of its
 * own (so runs sharing one NATS never meet), then a gateway that hosts no module.
 */
export async function startTopology(settings: Record<string, string>): Promise<Topology> {
  const prefix = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const cwd = mkdtempSync(join(tmpdir(), 'bunshop-topology-'));
  const common = { ...settings, TRANSPORT: 'nats', SUBJECT_PREFIX: prefix };
  const nodes = new Map<string, NodeProcess>();
  try {
    const started = await Promise.all(
      roles.map((r) =>
        spawnNode({ ...common, MODULES: r.modules, NODE_ID: `${prefix}-${r.id}` }, 60_000, cwd),
      ),
    );
    for (const [i, r] of roles.entries()) nodes.set(r.id, started[i]!);
    const gateway = await spawnNode(
      { ...common, MODULES: 'none', GATEWAY: 'true', NODE_ID: `${prefix}-gateway` },
      60_000,
      cwd,
    );
    nodes.set('gateway', gateway);
    return {
      prefix,
      gateway,
      nodes,
      async stop() {
        for (const node of nodes.values()) node.proc.kill('SIGTERM');
        await Promise.all([...nodes.values()].map((n) => n.exited));
        await deleteEventStream(prefix);
        rmSync(cwd, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const node of nodes.values()) node.proc.kill('SIGKILL');
    throw err;
  }
}
