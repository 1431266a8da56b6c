import type { EventDef, EventPayload } from '../contract.ts';
import type { Tx } from '../db/types.ts';

/** An event as it travels: the outbox row's id, name, payload and headers. */
export interface EventEnvelope {
  id: string;
  event: string;
  payload: unknown;
  headers: Record<string, string>;
  createdAt: string;
  /** The relay's delivery attempt, from 1; in-process sinks count a redelivery above 1. */
  attempt?: number;
}

/** A module's handler for another module's event, run inside the subscriber's transaction. */
export interface Subscription<E extends EventDef = EventDef> {
  event: E;
  /** Stable name, the inbox key together with the event id. */
  name: string;
  handle(payload: EventPayload<E>, tx: Tx, envelope: EventEnvelope): Promise<void>;
}

export function subscribe<E extends EventDef>(
  event: E,
  name: string,
  handle: Subscription<E>['handle'],
): Subscription {
  return { event, name, handle } as unknown as Subscription;
}

/** Where the relay hands committed events: in-process subscribers now, JetStream later. */
export interface EventSink {
  deliver(envelope: EventEnvelope): Promise<void>;
}
