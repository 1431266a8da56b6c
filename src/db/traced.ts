import { context, trace } from '@opentelemetry/api';
import { inSpan, openingTransaction, SpanKind, tracingOn } from '../observability/tracing.ts';
import type { Db } from './types.ts';

/**
 * One client span per transaction, inside traced work only: background polls (relays,
 * saga recovery) would otherwise start a new one-span trace every half second.
 */
export function traceTransactions(db: Db, system: string, namespace: string): Db {
  const original = db.transaction.bind(db);
  const attributes = { 'db.system.name': system, 'db.namespace': namespace };
  db.transaction = ((fn, config) =>
    tracingOn() && trace.getActiveSpan()
      ? inSpan(
          'db transaction',
          { kind: SpanKind.CLIENT, attributes, parent: openingTransaction(context.active()) },
          () => original(fn, config),
        )
      : original(fn, config)) as Db['transaction'];
  return db;
}
