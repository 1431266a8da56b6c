import * as v from 'valibot';
import type { Db } from '../db/types.ts';
import type { Metrics } from '../observability/metrics.ts';
import { contextFromHeaders, inSpan, linkFromHeaders, SpanKind } from '../observability/tracing.ts';
import type { InboxTable } from './tables.ts';
import type { EventEnvelope, EventSink, Subscription } from './types.ts';

/** A subscribing module's handlers, its database and its inbox. */
export interface Subscriber {
  module: string;
  db: Db;
  inbox: InboxTable;
  subscriptions: readonly Subscription[];
}

/**
 * Delivers events to the subscribers in this process. Each handler runs in its own
 * module's transaction together with the inbox insert, so a redelivery is a no-op.
 */
export class LocalEventSink implements EventSink {
  readonly #byEvent = new Map<string, { subscriber: Subscriber; sub: Subscription }[]>();

  constructor(private readonly metrics?: Metrics) {}

  add(subscriber: Subscriber): void {
    for (const sub of subscriber.subscriptions) {
      const list = this.#byEvent.get(sub.event.name) ?? [];
      list.push({ subscriber, sub });
      this.#byEvent.set(sub.event.name, list);
    }
  }

  async deliver(envelope: EventEnvelope): Promise<void> {
    const targets = this.#byEvent.get(envelope.event) ?? [];
    // Sequential: PGlite has one connection, and ordering keeps failures easy to read.
    for (const { subscriber, sub } of targets) {
      if ((envelope.attempt ?? 1) > 1) {
        this.metrics?.eventRedeliveries.inc({ event: envelope.event, module: subscriber.module });
      }
      await handleOnce(subscriber, sub, envelope).then(
        (outcome) => this.#count(envelope, subscriber, outcome),
        (err) => {
          this.#count(envelope, subscriber, 'failed');
          throw err;
        },
      );
    }
  }

  #count(envelope: EventEnvelope, subscriber: Subscriber, outcome: string) {
    this.metrics?.eventDeliveries.inc({
      event: envelope.event,
      module: subscriber.module,
      outcome,
    });
  }
}

/**
 * Runs one handler at most once per event id; returns whether it ran or was a duplicate.
 * Its consumer span is a child of the publish span, and linked to it, in the writer's trace.
 */
export function handleOnce(
  subscriber: Subscriber,
  sub: Subscription,
  envelope: EventEnvelope,
): Promise<'handled' | 'duplicate'> {
  return inSpan(
    `handle ${envelope.event}`,
    {
      kind: SpanKind.CONSUMER,
      parent: contextFromHeaders((k) => envelope.headers[k]),
      links: linkFromHeaders(envelope.headers),
      attributes: {
        'messaging.operation.type': 'process',
        'messaging.destination.name': envelope.event,
        'messaging.message.id': envelope.id,
        'bunshop.subscriber': `${subscriber.module}.${sub.name}`,
      },
    },
    async (span) => {
      const payload = v.parse(sub.event.payload, envelope.payload);
      const outcome = await subscriber.db.transaction(async (tx) => {
        const inserted = await tx
          .insert(subscriber.inbox)
          .values({ eventId: envelope.id, handler: sub.name })
          .onConflictDoNothing()
          .returning({ eventId: subscriber.inbox.eventId });
        if (inserted.length === 0) return 'duplicate' as const;
        await sub.handle(payload, tx, envelope);
        return 'handled' as const;
      });
      span.setAttribute('bunshop.outcome', outcome);
      return outcome;
    },
  );
}
