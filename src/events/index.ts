export { handleOnce, LocalEventSink, type Subscriber } from './local-sink.ts';
export { Outbox } from './outbox.ts';
export { OutboxRelay, type RelayOptions } from './relay.ts';
export { type InboxTable, inboxTable, type OutboxTable, outboxTable } from './tables.ts';
export { type EventEnvelope, type EventSink, type Subscription, subscribe } from './types.ts';
