import { and, count, isNull, min } from 'drizzle-orm';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Contract } from './contract.ts';
import type { Database, Db } from './db/types.ts';
import type { Subscriber } from './events/local-sink.ts';
import { wroteEvents } from './events/outbox.ts';
import { OutboxRelay } from './events/relay.ts';
import type { OutboxTable } from './events/tables.ts';
import type { EventSink } from './events/types.ts';
import type { ModuleDefinition, ModuleInstance, ModuleRuntime } from './module.ts';
import type { Logger } from './observability/log.ts';
import type { Metrics } from './observability/metrics.ts';
import type { Dispatcher } from './transport/dispatcher.ts';
import type { Router } from './transport/router.ts';

export interface HostedModules {
  instances: ModuleInstance<Contract>[];
  relays: OutboxRelay[];
  /** Hosted modules that handle other modules' events. */
  subscribers: Subscriber[];
}

/** Creates each hosted module with its runtime, registers it with the dispatcher, wires its events. */
export function hostModules(o: {
  config: Config;
  hosted: readonly ModuleDefinition[];
  byModule: Map<string, Database>;
  dispatcher: Dispatcher;
  router: Router;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
  /** Where relays deliver committed events: in-process subscribers, or JetStream. */
  sink: EventSink;
}): HostedModules {
  const { config, clock, metrics, sink } = o;
  const relays: OutboxRelay[] = [];
  const subscribers: Subscriber[] = [];
  const instances: ModuleInstance<Contract>[] = [];
  for (const def of o.hosted) {
    const module = def.contract.name;
    const database = o.byModule.get(module)!;
    const log = o.log.child({ module });
    const relay = def.outbox
      ? new OutboxRelay({ db: database.db, table: def.outbox, sink, log, clock, module, metrics })
      : undefined;
    if (relay) relays.push(relay);
    if (def.outbox)
      metrics.scrapeHooks.push(outboxBacklog(database.db, def.outbox, module, metrics));
    const runtime: ModuleRuntime = {
      db: database.db,
      log,
      clock,
      metrics,
      nodeId: config.nodeId,
      client: (contract) => o.router.client(contract),
      transaction: async (fn) => {
        let wrote = false;
        const result = await database.db.transaction(async (tx) => {
          const value = await fn(tx);
          wrote = wroteEvents.has(tx);
          return value;
        });
        // A relay pass is three statements: only worth it when this commit added events.
        if (wrote) relay?.nudge();
        return result;
      },
      eventsWritten: () => relay?.nudge(),
      sharesDatabaseWith: (contract) => o.byModule.get(contract.name) === database,
      settings: {
        requestTimeoutMs: config.requestTimeoutMs,
        adminEmail: config.adminEmail,
        adminPassword: config.adminPassword,
        maxPendingOrders: config.maxPendingOrders,
        sagaTimeoutMs: config.sagaTimeoutMs,
        sagaLeaseMs: config.sagaLeaseMs,
      },
    };
    const instance = def.create(runtime);
    o.dispatcher.host(def.contract, instance.service);
    if (def.inbox && instance.subscriptions?.length) {
      subscribers.push({
        module,
        db: database.db,
        inbox: def.inbox,
        subscriptions: instance.subscriptions,
      });
    }
    instances.push(instance as ModuleInstance<Contract>);
  }
  return { instances, relays, subscribers };
}

/** At scrape time: how many committed events wait for the relay, and how old the oldest is. */
function outboxBacklog(db: Db, table: OutboxTable, module: string, metrics: Metrics) {
  return async () => {
    const [row] = await db
      .select({ pending: count(), oldest: min(table.createdAt) })
      .from(table)
      .where(and(isNull(table.publishedAt), isNull(table.deadAt)));
    metrics.outboxPending.set({ module }, row?.pending ?? 0);
    const oldest = row?.oldest ? new Date(row.oldest).getTime() : undefined;
    metrics.outboxOldestAge.set({ module }, oldest ? Math.max(0, (Date.now() - oldest) / 1000) : 0);
  };
}
