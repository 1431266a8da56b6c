import * as v from 'valibot';
import type { EventDef, EventPayload } from '../contract.ts';
import { placeholders, statement } from '../db/statement.ts';
import type { Tx } from '../db/types.ts';
import { traceHeaders } from '../observability/tracing.ts';
import type { OutboxTable } from './tables.ts';

/** Transactions that wrote an event: only those need to wake the relay when they commit. */
export const wroteEvents = new WeakSet<object>();

/** Writes events into a module's outbox, inside the transaction that changes its state. */
export class Outbox {
  readonly #insert;

  constructor(table: OutboxTable) {
    this.#insert = statement<
      { id: string; event: string; payload: unknown; headers: Record<string, string> },
      unknown
    >((on) => on.insert(table).values(placeholders('id', 'event', 'payload', 'headers')));
  }

  async publish<E extends EventDef>(tx: Tx, def: E, payload: EventPayload<E>): Promise<string> {
    const id = Bun.randomUUIDv7();
    // Validated before it is written: a malformed event must fail the transaction, not a subscriber.
    const checked = v.parse(def.payload, payload);
    // The writing transaction's trace context: the event's delivery and handling join its trace.
    const headers = traceHeaders();
    await this.#insert(tx, { id, event: def.name, payload: checked, headers });
    wroteEvents.add(tx);
    return id;
  }
}
