/**
 * Everything a node needs only with `--transport=nats`, behind one dynamic import:
 * a node on the local transport never evaluates nats.js (start-up time).
 */
export { consumeEvents, ensureStream, JetStreamSink } from '../events/jetstream.ts';
export { discoverNodes, formatNodes } from './discovery.ts';
export { NatsTransport } from './nats.ts';
export { connectNats, redactNats } from './nats-connect.ts';
export { hostModules as serveOverNats } from './nats-host.ts';
export { serveNodeInfo } from './node-service.ts';
