import type { Clock } from './clock.ts';
import type { ClientOf, Contract, ServiceOf } from './contract.ts';
import type { Db, Migration, Tx } from './db/index.ts';
import type { InboxTable, OutboxTable, Subscription } from './events/index.ts';
import type { Api } from './gateway/api.ts';
import type { PrincipalLookup } from './gateway/principals.ts';
import type { Logger } from './observability/log.ts';
import type { Metrics } from './observability/metrics.ts';

/** What the kernel hands a module it hosts. */
export interface ModuleRuntime {
  db: Db;
  log: Logger;
  clock: Clock;
  metrics: Metrics;
  /** This node's identity (lease owner, logs). */
  nodeId: string;
  client<C extends Contract>(contract: C): ClientOf<C>;
  /** Runs a transaction, then wakes the outbox relay so its events go out at once. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Wakes the outbox relay after a single statement, outside `transaction`, committed events. */
  eventsWritten(): void;
  /** True when `contract`'s module runs in this process on this module's own database. */
  sharesDatabaseWith(contract: Contract): boolean;
  settings: ModuleSettings;
}

/** Settings the kernel reads from configuration and passes to every module. */
export interface ModuleSettings {
  requestTimeoutMs: number;
  adminEmail?: string;
  adminPassword?: string;
  maxPendingOrders: number;
  sagaTimeoutMs: number;
  /** How long a saga lease lasts without renewal; a dead node's sagas move on after it. */
  sagaLeaseMs: number;
}

export interface ModuleInstance<C extends Contract> {
  service: ServiceOf<C>;
  subscriptions?: Subscription[];
  start?(): Promise<void> | void;
  stop?(): Promise<void> | void;
}

/** A business module as main wires it: contract, data, behaviour and HTTP routes. */
export interface ModuleDefinition<C extends Contract = Contract> {
  contract: C;
  migrations: readonly Migration[];
  outbox?: OutboxTable;
  inbox?: InboxTable;
  create(runtime: ModuleRuntime): ModuleInstance<C>;
  /** For the module that owns accounts: resolves a token's subject, through clients only. */
  principal?(clients: { client<K extends Contract>(contract: K): ClientOf<K> }): PrincipalLookup;
  /** Routes are served by any gateway node, hosted here or not: they use clients only. */
  routes?(api: Api): void;
}

export function defineModule<C extends Contract>(def: ModuleDefinition<C>): ModuleDefinition<C> {
  return def;
}
