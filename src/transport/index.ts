export { Dispatcher } from './dispatcher.ts';
export { LocalTransport, Router } from './router.ts';
export type { Call, CallMiddleware, Transport } from './types.ts';
