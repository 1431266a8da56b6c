import type { NatsConnection } from 'nats';
import type { Config } from './config.ts';
import type { DatabaseRegistry } from './db/registry.ts';
import type { ReadinessChecks } from './gateway/ops.ts';
import type { ModuleDefinition } from './module.ts';
import { serviceName } from './transport/subjects.ts';

const noBody = new Uint8Array(0);

/**
 * What `/health/ready` checks: not shutting down, every database answering, migrations
 * applied, NATS reachable, and for a gateway an instance of every module it does not host.
 */
export function readinessChecks(o: {
  config: Config;
  dbs: DatabaseRegistry;
  hosted: readonly ModuleDefinition[];
  defs: readonly ModuleDefinition[];
  nc?: NatsConnection;
  shuttingDown: () => boolean;
}): ReadinessChecks {
  const checks: ReadinessChecks = {
    shutdown: async () =>
      o.shuttingDown() ? { ok: false, detail: 'shutting down' } : { ok: true },
    database: async () => {
      await Promise.all((await o.dbs.all()).map((d) => d.ping()));
      return { ok: true };
    },
    // A node applies or verifies every migration before it serves, or it does not start, and
    // applied migrations are never taken back: nothing to query (nor a connection to open).
    migrations: async () => ({
      ok: true,
      detail: `${o.hosted.length} modules up to date (verified at start)`,
    }),
  };
  const nc = o.nc;
  if (!nc) return checks;
  // A round trip to the server: a connection that is reconnecting does not answer.
  checks.nats = async () => {
    if (nc.isClosed()) return { ok: false, detail: 'connection closed' };
    await nc.flush();
    return { ok: true };
  };
  if (o.config.gateway) {
    for (const def of o.defs) {
      const module = def.contract.name;
      if (o.config.modules.includes(module)) continue;
      checks[`module:${module}`] = async () => {
        try {
          await nc.request(`$SRV.PING.${serviceName(o.config.subjectPrefix, module)}`, noBody, {
            timeout: 1_000,
          });
          return { ok: true };
        } catch {
          return { ok: false, detail: `no reachable ${module} instance` };
        }
      };
    }
  }
  return checks;
}
