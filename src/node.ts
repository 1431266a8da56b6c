import type { NatsConnection, Service } from 'nats';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config.ts';
import { migrateModule } from './db/migrate.ts';
import { DatabaseRegistry } from './db/registry.ts';
import type { Database } from './db/types.ts';
import { consumeEvents, ensureStream, JetStreamSink } from './events/jetstream.ts';
import { LocalEventSink } from './events/local-sink.ts';
import type { NodeInfo } from './gateway/ops.ts';
import { hostModules } from './host.ts';
import { listenEarly, serveHttp } from './http.ts';
import type { ModuleDefinition } from './module.ts';
import { createLogger, type Logger } from './observability/log.ts';
import { breakerLevels, createMetrics } from './observability/metrics.ts';
import { resilience } from './resilience/index.ts';
import { discoverNodes } from './transport/discovery.ts';
import { Dispatcher } from './transport/dispatcher.ts';
import { callMetrics, deadline } from './transport/middleware.ts';
import { NatsTransport } from './transport/nats.ts';
import { connectNats, redactNats } from './transport/nats-connect.ts';
import { hostModules as serveOverNats } from './transport/nats-host.ts';
import { LocalTransport, Router } from './transport/router.ts';

export interface RunningNode {
  url: string;
  port: number;
  log: Logger;
  stop(): Promise<void>;
}

export const VERSION: string = (await import('../package.json')).version;

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
  const early = listenEarly(config);
  const nc: NatsConnection | undefined =
    config.transport === 'nats' ? await connectNats(config) : undefined;
  const { dbs, byModule, hosted } = await migrateAll(config, defs, log);
  const dispatcher = new Dispatcher(log);
  const transport = nc
    ? new NatsTransport(nc, config.subjectPrefix, clock)
    : new LocalTransport(dispatcher);
  // After the metrics: a call is counted once, with the outcome its caller saw.
  const guard = resilience({
    isRemote: (module) => !dispatcher.hosts(module),
    log,
    clock,
    onBreakerChange: (module, state) => metrics.breakerState.set({ module }, breakerLevels[state]),
  });
  const router = new Router(dispatcher, transport, [
    deadline,
    callMetrics(metrics, dispatcher, transport.kind),
    guard,
  ]);
  const sink = nc ? new JetStreamSink(nc, config.subjectPrefix) : new LocalEventSink(metrics);
  const { instances, relays, subscribers } = hostModules({
    sink,
    config,
    hosted,
    byModule,
    dispatcher,
    router,
    log,
    metrics,
    clock,
  });
  for (const instance of instances) await instance.start?.();
  const stopConsumers: (() => void)[] = [];
  if (nc) {
    await ensureStream(nc, config.subjectPrefix);
    for (const subscriber of subscribers) {
      stopConsumers.push(
        await consumeEvents({ nc, prefix: config.subjectPrefix, subscriber, log, metrics }),
      );
    }
  } else {
    for (const subscriber of subscribers) (sink as LocalEventSink).add(subscriber);
  }
  for (const relay of relays) relay.start();
  const services: Service[] = nc
    ? await serveOverNats({
        nc,
        dispatcher,
        prefix: config.subjectPrefix,
        version: VERSION,
        nodeId: config.nodeId,
        clock,
        log,
      })
    : [];

  let shuttingDown = false;
  const self = (): NodeInfo => ({
    nodeId: config.nodeId,
    version: VERSION,
    modules: config.modules,
    startedAt: new Date(startedAt).toISOString(),
    uptimeSeconds: Math.round((clock.now() - startedAt) / 1000),
  });
  const server = serveHttp({
    server: early,
    config,
    defs,
    router,
    metrics,
    log,
    clock,
    version: VERSION,
    nodes: async () =>
      nc ? discoverNodes(nc, config.subjectPrefix, self(), clock.now()) : [self()],
    checks: {
      shutdown: async () => (shuttingDown ? { ok: false, detail: 'shutting down' } : { ok: true }),
      database: async () => {
        await Promise.all((await dbs.all()).map((d) => d.ping()));
        return { ok: true };
      },
      migrations: async () => ({ ok: true, detail: `${hosted.length} modules migrated` }),
      ...(nc
        ? {
            nats: async () =>
              nc.isClosed() ? { ok: false, detail: 'connection closed' } : { ok: true },
          }
        : {}),
    },
  });
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${server.port}`;
  log.info(`bunshop ${VERSION} listening on ${url}`, {
    port: server.port,
    modules: config.modules,
    gateway: config.gateway,
    transport: config.transport,
    ...(nc ? { nats: redactNats(config.natsUrl), subjectPrefix: config.subjectPrefix } : {}),
    database: [...new Set([...byModule.values()].map((d) => d.describe))].join('; '),
  });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      shuttingDown = true;
      log.info('shutting down: finishing in-flight requests');
      // Leave the queue groups first, so other instances take new calls while this one drains.
      await Promise.all(services.map((s) => s.stop()));
      await server.stop(false);
      for (const stopConsumer of stopConsumers) stopConsumer();
      for (const instance of instances) await instance.stop?.();
      await Promise.all(relays.map((r) => r.stop()));
      await nc?.drain();
      await dbs.close();
      log.info('stopped');
    })();
    return stopping;
  };
  return { url, port: server.port ?? config.port, log, stop };
}
