import type { NatsConnection, Service } from 'nats';
import { type Clock, systemClock } from './clock.ts';
import { type Config, embeddedDataWarning } from './config.ts';
import { migrateModule, type Recorded, recordedMigrations } from './db/migrate.ts';
import { DatabaseRegistry } from './db/registry.ts';
import type { Database } from './db/types.ts';
import { AppError } from './errors.ts';
import { LocalEventSink } from './events/local-sink.ts';
import { metricsResponse, type NodeInfo } from './gateway/ops.ts';
import { problemResponse } from './gateway/problem.ts';
import { hostModules } from './host.ts';
import { httpHandler, listenEarly } from './http.ts';
import type { ModuleDefinition } from './module.ts';
import { callMatrix } from './observability/call-matrix.ts';
import { createLogger, type Logger } from './observability/log.ts';
import { breakerLevels, createMetrics, type Metrics } from './observability/metrics.ts';
import { startTracing } from './observability/tracing.ts';
import { readinessChecks } from './readiness.ts';
import { callRouter } from './transport/call-router.ts';
import { Dispatcher } from './transport/dispatcher.ts';
import { LocalTransport } from './transport/router.ts';

export interface RunningNode {
  url: string;
  port: number;
  log: Logger;
  stop(): Promise<void>;
}

export const VERSION: string = (await import('../package.json')).version;

/** The module definitions this node hosts (its `--modules`). */
function hostedBy(config: Config, defs: readonly ModuleDefinition[]): ModuleDefinition[] {
  return defs.filter((d) => config.modules.includes(d.contract.name));
}

/** Opens the hosted modules' databases and applies their migrations. */
export async function migrateAll(
  config: Config,
  defs: readonly ModuleDefinition[],
  log: Logger,
  dbs = new DatabaseRegistry(config),
) {
  const hosted = hostedBy(config, defs);
  const byModule = new Map<string, Database>();
  const recorded = new Map<Database, Promise<Recorded>>();
  for (const def of hosted) {
    const database = await dbs.forModule(def.contract.name);
    if (!recorded.has(database)) recorded.set(database, recordedMigrations(database));
    const applied = await migrateModule(
      database,
      def.contract.name,
      def.migrations,
      await recorded.get(database),
    );
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
  const log = createLogger(config.logLevel, { node: config.nodeId }, undefined, config.logFormat);
  // A Postgres backend takes 10-20 ms to start: it connects while the rest is built.
  const dbs = new DatabaseRegistry(config);
  const migrated = migrateAll(config, defs, log, dbs);
  migrated.catch(() => {}); // Awaited below; a failure before then must not go unhandled.
  // Turns of the event loop let the socket connect and send its startup message, so the
  // backend starts while this process builds the rest: 5 ms off a cold start, measured.
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  // What wire opened, closed in reverse when start-up fails: the process may live on.
  const opened: (() => unknown)[] = [];
  try {
    return await wire({ config, defs, clock, startedAt, log, dbs, migrated, opened });
  } catch (err) {
    for (const close of opened.reverse())
      await Promise.resolve()
        .then(close)
        .catch(() => {});
    await migrated.catch(() => {});
    await dbs.close();
    throw err;
  }
}

async function wire({
  config,
  defs,
  clock,
  startedAt,
  log,
  dbs,
  migrated,
  opened,
}: {
  config: Config;
  defs: readonly ModuleDefinition[];
  clock: Clock;
  startedAt: number;
  log: Logger;
  dbs: DatabaseRegistry;
  migrated: ReturnType<typeof migrateAll>;
  opened: (() => unknown)[];
}): Promise<RunningNode> {
  const tracing = await startTracing({
    // One service per role, so a trace view tells the gateway's spans from the order node's.
    serviceName:
      config.modules.length === defs.length
        ? 'bunshop'
        : `bunshop-${config.modules.join('-') || 'gateway'}`,
    nodeId: config.nodeId,
    version: VERSION,
    modules: config.modules,
    log,
  });
  opened.push(() => tracing.shutdown());
  if (config.ephemeralSecret) {
    log.warn(
      'JWT_SECRET is not set: using a random key, so tokens stop working when this process restarts',
    );
  }
  const embedded = embeddedDataWarning(config);
  if (embedded) log.warn(embedded);
  const metrics = createMetrics();
  metrics.nodeInfo.set(
    {
      node: config.nodeId,
      version: VERSION,
      modules: config.modules.join(',') || 'none',
      transport: config.transport,
    },
    1,
  );
  const server = listenEarly(config);
  opened.push(() => server.stop(true));
  const metricsServer = config.metricsPort ? serveMetrics(config, metrics) : undefined;
  opened.push(() => metricsServer?.stop(true));
  const nats = config.transport === 'nats' ? await import('./transport/nats-mode.ts') : undefined;
  const nc: NatsConnection | undefined = nats ? await nats.connectNats(config) : undefined;
  opened.push(() => nc?.close());
  const dispatcher = new Dispatcher(log, metrics, clock);
  const transport =
    nats && nc
      ? new nats.NatsTransport(nc, config.subjectPrefix, clock)
      : new LocalTransport(dispatcher);
  // Every remote target starts closed, so dashboards show a state before the first change.
  for (const def of defs) {
    if (nc && !config.modules.includes(def.contract.name))
      metrics.breakerState.set({ module: def.contract.name }, breakerLevels.closed);
  }
  const router = callRouter({ dispatcher, transport, metrics, log, clock });
  let shuttingDown = false;
  const self = (): NodeInfo => ({
    nodeId: config.nodeId,
    version: VERSION,
    modules: config.modules,
    startedAt: new Date(startedAt).toISOString(),
    uptimeSeconds: Math.round((clock.now() - startedAt) / 1000),
  });
  const handler = httpHandler({
    config,
    defs,
    router,
    metrics,
    log,
    clock,
    version: VERSION,
    nodes: async () =>
      nats && nc
        ? nats.discoverNodes(nc, config.subjectPrefix, self(), clock.now())
        : [{ ...self(), calls: await callMatrix(metrics) }],
    checks: readinessChecks({
      config,
      dbs,
      hosted: hostedBy(config, defs),
      defs,
      nc,
      shuttingDown: () => shuttingDown,
    }),
  });
  const { byModule, hosted } = await migrated;
  const sink =
    nats && nc ? new nats.JetStreamSink(nc, config.subjectPrefix) : new LocalEventSink(metrics);
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
  for (const instance of instances) {
    await instance.start?.();
    opened.push(() => instance.stop?.());
  }
  const stopConsumers: (() => void)[] = [];
  opened.push(() => {
    for (const stopConsumer of stopConsumers) stopConsumer();
  });
  if (nats && nc) {
    const streamDiffers = await nats.ensureStream(nc, config.subjectPrefix, config.eventsReplicas);
    if (streamDiffers) log.warn(streamDiffers);
    for (const subscriber of subscribers) {
      stopConsumers.push(
        await nats.consumeEvents({ nc, prefix: config.subjectPrefix, subscriber, log, metrics }),
      );
    }
  } else {
    for (const subscriber of subscribers) (sink as LocalEventSink).add(subscriber);
  }
  for (const relay of relays) relay.start();
  opened.push(() => Promise.all(relays.map((r) => r.stop())));
  const services: Service[] =
    nats && nc
      ? await nats.serveOverNats({
          nc,
          dispatcher,
          prefix: config.subjectPrefix,
          version: VERSION,
          nodeId: config.nodeId,
          clock,
          log,
        })
      : [];
  if (nats && nc) {
    services.push(
      await nats.serveNodeInfo({
        nc,
        prefix: config.subjectPrefix,
        nodeId: config.nodeId,
        version: VERSION,
        modules: config.modules,
        gateway: config.gateway,
        metrics,
      }),
    );
  }

  server.reload({ fetch: handler });
  const url = `http://${urlHost(config.host)}:${server.port}`;
  log.info(`bunshop ${VERSION} listening on ${url}`, {
    port: server.port,
    modules: config.modules,
    gateway: config.gateway,
    transport: config.transport,
    ...(nats ? { nats: nats.redactNats(config.natsUrl), subjectPrefix: config.subjectPrefix } : {}),
    database: [...new Set([...byModule.values()].map((d) => d.describe))].join('; '),
  });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      shuttingDown = true;
      if (config.shutdownDelayMs > 0) {
        log.info('shutting down: readiness is 503; still serving while load balancers notice', {
          delayMs: config.shutdownDelayMs,
        });
        await Bun.sleep(config.shutdownDelayMs);
      }
      log.info('shutting down: finishing in-flight requests');
      // Leave the queue groups first, so other instances take new calls while this one drains.
      await Promise.all(services.map((s) => s.stop()));
      await server.stop(false);
      for (const stopConsumer of stopConsumers) stopConsumer();
      for (const instance of instances) await instance.stop?.();
      await Promise.all(relays.map((r) => r.stop()));
      await nc?.drain();
      await dbs.close();
      metricsServer?.stop(true);
      await tracing.shutdown().catch((err) => log.warn('could not flush spans', { err }));
      log.info('stopped');
    })();
    return stopping;
  };
  return { url, port: server.port ?? config.port, log, stop };
}

/** Any-address listeners print as localhost; an IPv6 address takes brackets in a URL (RFC 3986). */
function urlHost(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare === '0.0.0.0' || bare === '::') return 'localhost';
  return bare.includes(':') ? `[${bare}]` : bare;
}

/** `--metrics-port`: the scrape endpoint (and liveness) on a port that can stay private. */
function serveMetrics(config: Config, metrics: Metrics) {
  return Bun.serve({
    port: config.metricsPort,
    hostname: config.host,
    fetch: (request) => {
      const path = new URL(request.url).pathname;
      if (path === '/metrics') return metricsResponse(metrics);
      if (path === '/health/live') return Response.json({ status: 'ok' });
      return problemResponse(new AppError('not_found', 'This port serves /metrics only.'));
    },
  });
}
