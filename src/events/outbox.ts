import * as v from 'valibot';
import type { EventDef, EventPayload } from '../contract.ts';
import { placeholders, statement } from '../db/statement.ts';
import type { Tx } from '../db/types.ts';
import { traceHeaders } from '../observability/tracing.ts';
import type { OutboxTable } from './tables.ts';

/** Transactions that wrote an event: only those need to wake the relay when they commit. */
export const wroteEvents = new WeakSet<object>();

export type OutboxRowValues = {
  eventId: string;
  event: string;
  /** JSON text. */
  payload: string;
  /** JSON text. */
  headers: string;
};

/** Writes events into a module's outbox, inside the transaction that changes its state. */
export class Outbox {
  readonly #insert;

  constructor(table: OutboxTable) {
    this.#insert = statement<
      { id: string; event: string; payload: unknown; headers: Record<string, string> },
      unknown
    >((on) => on.insert(table).values(placeholders('id', 'event', 'payload', 'headers')));
  }

  /**
   * An event as the values of an outbox row, for a statement written in SQL that inserts it
   * itself (`eventId`::uuid, `event`::text, `payload`::jsonb, `headers`::jsonb). Whoever runs that
   * statement outside `ModuleRuntime.transaction` wakes the relay (`eventsWritten`).
   */
  row<E extends EventDef>(def: E, payload: EventPayload<E>): OutboxRowValues {
    const e = envelope(def, payload);
    return {
      eventId: e.id,
      event: e.event,
      payload: JSON.stringify(e.payload),
      headers: JSON.stringify(e.headers),
    };
  }

  async publish<E extends EventDef>(tx: Tx, def: E, payload: EventPayload<E>): Promise<string> {
    const e = envelope(def, payload);
    await this.#insert(tx, e);
    wroteEvents.add(tx);
    return e.id;
  }
}

function envelope<E extends EventDef>(def: E, payload: EventPayload<E>) {
  return {
    id: Bun.randomUUIDv7(),
    event: def.name,
    // Validated before it is written: a malformed event must fail the write, not a subscriber.
    payload: v.parse(def.payload, payload) as unknown,
    // The writer's trace context: the event's delivery and handling join its trace.
    headers: traceHeaders(),
  };
}
