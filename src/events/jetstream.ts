import {
  AckPolicy,
  DeliverPolicy,
  headers,
  type JetStreamClient,
  type JsMsg,
  type NatsConnection,
  nanos,
} from 'nats';
import type { Logger } from '../observability/log.ts';
import type { Metrics } from '../observability/metrics.ts';
import { handleOnce, type Subscriber } from './local-sink.ts';
import type { EventEnvelope, EventSink } from './types.ts';

/** Deliveries before a poison event goes to the dead-letter subject. */
const maxDeliver = 8;

/** Names in one place: the stream, its subjects, and the dead-letter subjects. */
export function eventNames(prefix: string) {
  const stream = `${prefix.replaceAll('.', '_')}_events`;
  return {
    stream,
    subject: (event: string) => `${prefix}.evt.${event}`,
    deadLetter: (module: string, event: string) => `${prefix}.dlq.${module}.${event}`,
    durable: (module: string, event: string) => `${module}_${event.replaceAll('.', '_')}`,
  };
}

/**
 * Creates the event stream if it is missing, with `replicas` copies (3 on a NATS cluster survives
 * a server's loss, RELIABILITY.md promise 4); every node may call this at start-up. An existing
 * stream is left as it is: what it differs in is returned, for a warning.
 */
export async function ensureStream(
  nc: NatsConnection,
  prefix: string,
  replicas = 1,
): Promise<string | undefined> {
  const names = eventNames(prefix);
  const jsm = await nc.jetstreamManager().catch((err) => {
    throw new Error(
      `NATS JetStream is not available (run nats-server with -js): ${err?.message ?? err}`,
    );
  });
  const config = {
    name: names.stream,
    subjects: [`${prefix}.evt.>`],
    num_replicas: replicas,
    // Nats-Msg-Id dedupes a relay's re-publish of the same outbox row within this window.
    duplicate_window: nanos(5 * 60_000),
  };
  const differs = (has: number) =>
    has === replicas
      ? undefined
      : `the event stream ${names.stream} has ${has} replica(s), EVENTS_REPLICAS asks ${replicas}: change it with \`nats stream edit\``;
  const existing = await jsm.streams.info(names.stream).catch(() => undefined);
  if (existing) return differs(existing.config.num_replicas);
  try {
    await jsm.streams.add(config);
    return undefined;
  } catch (err) {
    // Another node created it first.
    const raced = await jsm.streams.info(names.stream).catch(() => undefined);
    if (raced) return differs(raced.config.num_replicas);
    throw new Error(
      `could not create or read the event stream ${names.stream} with ${replicas} replica(s) (EVENTS_REPLICAS): ${(err as Error)?.message ?? err}`,
    );
  }
}

/** The relay's sink in NATS mode: publish and wait for JetStream's ack, with the event id as Nats-Msg-Id. */
export class JetStreamSink implements EventSink {
  readonly #js: JetStreamClient;
  constructor(
    nc: NatsConnection,
    private readonly prefix: string,
  ) {
    this.#js = nc.jetstream();
  }

  async deliver(envelope: EventEnvelope): Promise<void> {
    const h = headers();
    for (const [k, v] of Object.entries(envelope.headers)) h.set(k, v);
    await this.#js.publish(
      eventNames(this.prefix).subject(envelope.event),
      JSON.stringify(envelope),
      {
        msgID: envelope.id,
        headers: h,
      },
    );
  }
}

/**
 * One durable consumer per (subscribing module, event). A message is acked only after
 * the handler's transaction (with its inbox row) committed; failures are redelivered
 * with backoff, and after `maxDeliver` deliveries the message goes to a dead-letter subject.
 */
export async function consumeEvents(o: {
  nc: NatsConnection;
  prefix: string;
  subscriber: Subscriber;
  log: Logger;
  metrics: Metrics;
}): Promise<() => void> {
  const names = eventNames(o.prefix);
  const jsm = await o.nc.jetstreamManager();
  const js = o.nc.jetstream();
  const stops: (() => void)[] = [];
  for (const sub of o.subscriber.subscriptions) {
    const durable = names.durable(o.subscriber.module, sub.event.name);
    await jsm.consumers.add(names.stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: names.subject(sub.event.name),
      ack_wait: nanos(30_000),
      max_deliver: maxDeliver + 1,
    });
    const consumer = await js.consumers.get(names.stream, durable);
    const messages = await consumer.consume({ max_messages: 64 });
    stops.push(() => void messages.stop());
    void (async () => {
      for await (const m of messages) await handle(o, sub, m);
    })().catch((err) => o.log.error('event consumer stopped', { durable, err }));
  }
  return () => {
    for (const stop of stops) stop();
  };
}

async function handle(
  o: { subscriber: Subscriber; log: Logger; metrics: Metrics; prefix: string; nc: NatsConnection },
  sub: Subscriber['subscriptions'][number],
  m: JsMsg,
): Promise<void> {
  const module = o.subscriber.module;
  let envelope: EventEnvelope | undefined;
  try {
    envelope = m.json<EventEnvelope>();
    if (m.info.deliveryCount > 1)
      o.metrics.eventRedeliveries.inc({ event: sub.event.name, module });
    // The message's own headers carry the trace context on the wire; they win over the body's copy.
    const traceparent = m.headers?.get('traceparent');
    if (traceparent) {
      envelope.headers = { ...envelope.headers, traceparent };
      const tracestate = m.headers?.get('tracestate');
      if (tracestate) envelope.headers.tracestate = tracestate;
    }
    const outcome = await handleOnce(o.subscriber, sub, envelope);
    m.ack();
    o.metrics.eventDeliveries.inc({ event: sub.event.name, module, outcome });
  } catch (err) {
    o.metrics.eventDeliveries.inc({ event: sub.event.name, module, outcome: 'failed' });
    if (m.info.deliveryCount >= maxDeliver) {
      o.nc.publish(eventNames(o.prefix).deadLetter(module, sub.event.name), m.data);
      // Debian's nats-server 2.9 ignores a reason on term(), so none is given.
      m.term();
      o.metrics.eventDeadLetters.inc({ event: sub.event.name, module });
      o.log.error('event dead-lettered after repeated failures', {
        event: sub.event.name,
        eventId: envelope?.id,
        deliveries: m.info.deliveryCount,
        err,
      });
    } else {
      m.nak(Math.min(30_000, 250 * 2 ** m.info.deliveryCount));
      o.log.warn('event handling failed; will be redelivered', {
        event: sub.event.name,
        eventId: envelope?.id,
        err,
      });
    }
  }
}
