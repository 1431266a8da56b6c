import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { and, asc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { Clock } from '../clock.ts';
import { commitsLazily } from '../db/commit.ts';
import { listStatement, placeholder, statement } from '../db/statement.ts';
import type { Db } from '../db/types.ts';
import type { Logger } from '../observability/log.ts';
import type { Metrics } from '../observability/metrics.ts';
import { contextFromHeaders, inSpan, SpanKind, traceHeaders } from '../observability/tracing.ts';
import type { OutboxTable } from './tables.ts';
import type { EventEnvelope, EventSink } from './types.ts';

export interface RelayOptions {
  db: Db;
  table: OutboxTable;
  sink: EventSink;
  log: Logger;
  clock: Clock;
  /** The publishing module, for metrics. */
  module?: string;
  metrics?: Metrics;
  /** Deliveries before an event is dead-lettered. */
  maxAttempts?: number;
  pollMs?: number;
  batch?: number;
  onDeadLetter?: (envelope: EventEnvelope, error: string) => void;
}

const claimMs = 30_000;
type OutboxRow = OutboxTable['$inferSelect'];

/** The relay's two statements on its table, built once (bench/README.md, W2). */
function relayStatements(table: OutboxTable, batch: number) {
  // Claimed in one statement: the subquery locks due rows other relays have not locked.
  const claim = statement<{ now: Date; until: Date }, OutboxRow[]>((on) =>
    on
      .update(table)
      .set({ nextAttemptAt: placeholder(table.nextAttemptAt, 'until') })
      .where(
        and(
          inArray(
            table.id,
            on
              .select({ id: table.id })
              .from(table)
              .where(
                and(
                  isNull(table.publishedAt),
                  isNull(table.deadAt),
                  lte(table.nextAttemptAt, placeholder(table.nextAttemptAt, 'now')),
                ),
              )
              .orderBy(asc(table.createdAt))
              .limit(batch)
              .for('update', { skipLocked: true }),
          ),
          // A lost claim or mark delivers the event again, deduplicated by its id (src/db/commit.ts).
          commitsLazily,
        ),
      )
      .returning(),
  );
  const markPublished = listStatement<{ at: Date }, unknown>(16, (on, ids) =>
    on
      .update(table)
      .set({ publishedAt: placeholder(table.publishedAt, 'at') })
      .where(and(inArray(table.id, ids as string[]), commitsLazily)),
  );
  return { claim, markPublished };
}

/**
 * Delivers committed outbox rows. Rows are claimed with FOR UPDATE SKIP LOCKED and a
 * short claim time, never by "id greater than the last one seen": ids can commit out of
 * order. A row is marked published only after the sink accepted it (at-least-once).
 */
export class OutboxRelay {
  readonly #o: Required<Omit<RelayOptions, 'onDeadLetter' | 'metrics'>> &
    Pick<RelayOptions, 'onDeadLetter' | 'metrics'>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = true;
  readonly #sql: ReturnType<typeof relayStatements>;

  constructor(options: RelayOptions) {
    this.#o = { maxAttempts: 8, pollMs: 500, batch: 100, module: 'unknown', ...options };
    this.#sql = relayStatements(this.#o.table, this.#o.batch);
  }

  /** Starts polling; the first pass waits `firstPassMs`, as a node just started serves first. */
  start(firstPassMs = 500): void {
    this.#stopped = false;
    this.#timer = setTimeout(() => this.nudge(), firstPassMs);
  }

  /** Ask for a pass soon, e.g. right after a transaction that wrote events committed. */
  nudge(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    // Detached from the request that nudged it: each event's span names its own parent.
    this.#running = context
      .with(ROOT_CONTEXT, () => this.#loop())
      .finally(() => {
        this.#running = undefined;
        if (this.#stopped) return;
        if (this.#again) {
          this.#again = false;
          this.nudge();
        } else {
          this.#timer = setTimeout(() => this.nudge(), this.#o.pollMs);
        }
      });
  }

  /** Stops polling after delivering what is already committed. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
    await this.#pass().catch(() => {});
  }

  async #loop(): Promise<void> {
    try {
      while ((await this.#pass()) === this.#o.batch && !this.#stopped) {}
    } catch (err) {
      this.#o.log.warn('outbox relay pass failed; retrying', { err });
    }
  }

  /** One claim-deliver-mark pass; returns how many rows it claimed. */
  async #pass(): Promise<number> {
    const { db, clock } = this.#o;
    const now = clock.now();
    const rows = await this.#sql.claim(db, {
      now: new Date(now),
      until: new Date(now + claimMs),
    });
    if (rows.length === 0) return 0;
    rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    const delivered = await Promise.all(rows.map((row) => this.#deliver(row)));
    const published = rows.filter((_, i) => delivered[i]);
    if (published.length > 0) {
      const publishedAt = clock.now();
      await this.#sql.markPublished(
        db,
        { at: new Date(publishedAt) },
        published.map((r) => r.id),
      );
      for (const row of published) {
        this.#o.metrics?.outboxLag.observe(
          { module: this.#o.module },
          (publishedAt - row.createdAt.getTime()) / 1000,
        );
      }
    }
    return rows.length;
  }

  /**
   * Delivers one row in a producer span, a child of the transaction that wrote the event.
   * True when the sink took it; a failure is recorded on the row for a later attempt.
   */
  #deliver(row: OutboxRow): Promise<boolean> {
    return inSpan(
      `publish ${row.event}`,
      {
        kind: SpanKind.PRODUCER,
        parent: contextFromHeaders((k) => row.headers[k]),
        attributes: {
          'messaging.operation.type': 'send',
          'messaging.destination.name': row.event,
          'messaging.message.id': row.id,
          'bunshop.attempt': row.attempts + 1,
        },
      },
      () => this.#attempt(row),
    );
  }

  async #attempt(row: OutboxRow): Promise<boolean> {
    const { db, table, sink, clock, log, maxAttempts, metrics, module } = this.#o;
    // Consumers see the producer span as the parent of their handling.
    const envelope: EventEnvelope = {
      id: row.id,
      event: row.event,
      payload: row.payload,
      headers: { ...row.headers, ...traceHeaders() },
      createdAt: row.createdAt.toISOString(),
      attempt: row.attempts + 1,
    };
    try {
      await sink.deliver(envelope);
      return true;
    } catch (err) {
      const attempts = row.attempts + 1;
      const message = err instanceof Error ? err.message : String(err);
      const dead = attempts >= maxAttempts;
      const backoff = Math.min(60_000, 250 * 2 ** attempts) * (0.5 + Math.random() / 2);
      await db
        .update(table)
        .set({
          attempts: sql`${table.attempts} + 1`,
          lastError: message.slice(0, 500),
          nextAttemptAt: new Date(clock.now() + backoff),
          deadAt: dead ? new Date(clock.now()) : null,
        })
        .where(eq(table.id, row.id));
      if (dead) {
        log.error('event dead-lettered after repeated failures', {
          eventId: row.id,
          event: row.event,
          attempts,
          error: message,
        });
        metrics?.eventDeadLetters.inc({ event: row.event, module });
        this.#o.onDeadLetter?.(envelope, message);
      } else {
        log.warn('event delivery failed; will retry', {
          eventId: row.id,
          event: row.event,
          attempts,
        });
      }
      return false;
    }
  }
}
