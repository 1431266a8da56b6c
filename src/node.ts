import type { Server } from 'bun';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config.ts';
import type { Contract } from './contract.ts';
import { migrateModule } from './db/migrate.ts';
import { DatabaseRegistry } from './db/registry.ts';
import type { Database } from './db/types.ts';
import { LocalEventSink } from './events/local-sink.ts';
import { OutboxRelay } from './events/relay.ts';
import { createGateway } from './gateway/app.ts';
import { mountOps } from './gateway/ops.ts';
import { cachedPrincipals } from './gateway/principals.ts';
import type { ModuleDefinition, ModuleInstance, ModuleRuntime } from './module.ts';
import { createLogger, type Logger } from './observability/log.ts';
import { createMetrics } from './observability/metrics.ts';
import { Dispatcher } from './transport/dispatcher.ts';
import { callMetrics, deadline } from './transport/middleware.ts';
import { LocalTransport, Router } from './transport/router.ts';

export interface RunningNode {
  url: string;
  port: number;
  log: Logger;
  stop(): Promise<void>;
}

/** Opens the hosted modules' databases and applies their migrations. */
export async function migrateAll(
  config: Config,
  defs: readonly ModuleDefinition[],
  log: Logger,
  dbs = new DatabaseRegistry(config),
) {
  const hosted = defs.filter((d) => config.modules.includes(d.contract.name));
  const byModule = new Map<string, Database>();
  for (const def of hosted) {
    const database = await dbs.forModule(def.contract.name);
    const applied = await migrateModule(database, def.contract.name, def.migrations);
    if (applied.length) log.info('migrations applied', { module: def.contract.name, applied });
    byModule.set(def.contract.name, database);
  }
  return { dbs, byModule, hosted };
}

/** Wires the kernel and the hosted modules into one running node, and serves HTTP. */
export async function startNode(
  config: Config,
  defs: readonly ModuleDefinition[],
  clock: Clock = systemClock,
): Promise<RunningNode> {
  const startedAt = clock.now();
  const log = createLogger(config.logLevel, { node: config.nodeId });
  if (config.ephemeralSecret) {
    log.warn(
      'JWT_SECRET is not set: using a random key, so tokens stop working when this process restarts',
    );
  }
  const metrics = createMetrics();
  const { dbs, byModule, hosted } = await migrateAll(config, defs, log);
  const dispatcher = new Dispatcher(log);
  const router = new Router(dispatcher, new LocalTransport(dispatcher), [
    deadline,
    callMetrics(metrics, dispatcher, 'local'),
  ]);
  const sink = new LocalEventSink(metrics);
  const relays: OutboxRelay[] = [];
  const instances: ModuleInstance<Contract>[] = [];

  for (const def of hosted) {
    const module = def.contract.name;
    const database = byModule.get(module)!;
    const relay = def.outbox
      ? new OutboxRelay({
          db: database.db,
          table: def.outbox,
          sink,
          log: log.child({ module }),
          clock,
        })
      : undefined;
    if (relay) relays.push(relay);
    const runtime: ModuleRuntime = {
      db: database.db,
      log: log.child({ module }),
      clock,
      metrics,
      nodeId: config.nodeId,
      client: (contract) => router.client(contract),
      transaction: async (fn) => {
        const result = await database.db.transaction(fn);
        relay?.nudge();
        return result;
      },
      settings: {
        requestTimeoutMs: config.requestTimeoutMs,
        adminEmail: config.adminEmail,
        adminPassword: config.adminPassword,
        maxPendingOrders: config.maxPendingOrders,
        sagaTimeoutMs: config.sagaTimeoutMs,
      },
    };
    const instance = def.create(runtime);
    dispatcher.host(def.contract, instance.service);
    if (def.inbox && instance.subscriptions?.length) {
      sink.add({
        module,
        db: database.db,
        inbox: def.inbox,
        subscriptions: instance.subscriptions,
      });
    }
    instances.push(instance as ModuleInstance<Contract>);
  }
  for (const instance of instances) await instance.start?.();
  for (const relay of relays) relay.start();

  let shuttingDown = false;
  const { app, routes } = createGateway({
    router,
    metrics,
    log,
    clock,
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
    principal: principalOf(defs, router, clock),
    mount: [
      ...defs.flatMap((d) => (d.routes ? [d.routes] : [])),
      (api) =>
        mountOps(api, {
          registry: metrics.registry,
          version: VERSION,
          routes: () => routes,
          log,
          nodes: async () => [
            {
              nodeId: config.nodeId,
              version: VERSION,
              modules: config.modules,
              startedAt: new Date(startedAt).toISOString(),
              uptimeSeconds: Math.round((clock.now() - startedAt) / 1000),
            },
          ],
          checks: {
            shutdown: async () =>
              shuttingDown ? { ok: false, detail: 'shutting down' } : { ok: true },
            database: async () => {
              await Promise.all((await dbs.all()).map((d) => d.ping()));
              return { ok: true };
            },
            migrations: async () => ({ ok: true, detail: `${hosted.length} modules migrated` }),
          },
        }),
    ],
  });

  const server: Server<undefined> = Bun.serve({
    port: config.port,
    hostname: config.host,
    // The gateway refuses bodies over 64 KiB itself, with a problem document; Bun's own 413 has none.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    fetch: (request, srv) => app.fetch(request, { server: srv }),
  });
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${server.port}`;
  const databases = [...new Set([...byModule.values()].map((d) => d.describe))];
  log.info(`bunshop ${VERSION} listening on ${url}`, {
    port: server.port,
    modules: config.modules,
    transport: 'local',
    database: databases.join('; '),
  });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      shuttingDown = true;
      log.info('shutting down: finishing in-flight requests');
      await server.stop(false);
      for (const instance of instances) await instance.stop?.();
      await Promise.all(relays.map((r) => r.stop()));
      await dbs.close();
      log.info('stopped');
    })();
    return stopping;
  };
  return { url, port: server.port ?? config.port, log, stop };
}

export const VERSION: string = (await import('../package.json')).version;

function principalOf(defs: readonly ModuleDefinition[], router: Router, clock: Clock) {
  const lookup = defs.find((d) => d.principal)?.principal?.(router);
  return lookup ? cachedPrincipals(lookup, clock) : undefined;
}
