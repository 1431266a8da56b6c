import { context } from '@opentelemetry/api';
import type { NatsConnection, Service, ServiceMsg } from 'nats';
import type { Clock } from '../clock.ts';
import { toAppError } from '../errors.ts';
import type { Logger } from '../observability/log.ts';
import { contextFromHeaders } from '../observability/tracing.ts';
import type { Dispatcher } from './dispatcher.ts';
import { actionSubject, serviceName } from './subjects.ts';
import { decodeCall, encodeBody } from './wire.ts';

export interface HostOptions {
  nc: NatsConnection;
  dispatcher: Dispatcher;
  prefix: string;
  version: string;
  nodeId: string;
  clock: Clock;
  log: Logger;
}

/**
 * Serves each hosted module as a NATS micro service: one endpoint per action, in a
 * queue group per module so that its instances share the load. Discovery reads these.
 */
export async function hostModules(o: HostOptions): Promise<Service[]> {
  const services: Service[] = [];
  for (const module of o.dispatcher.modules) {
    const contract = o.dispatcher.contract(module)!;
    const service = await o.nc.services.add({
      name: serviceName(o.prefix, module),
      version: o.version,
      description: `bunshop ${module} module`,
      metadata: { node: o.nodeId, module },
      queue: serviceName(o.prefix, module),
    });
    for (const action of Object.keys(contract.actions)) {
      service.addEndpoint(action, {
        subject: actionSubject(o.prefix, module, action),
        handler: (err, msg) => {
          if (err) return void o.log.error('service endpoint stopped', { module, action, err });
          void answer(o, module, action, msg);
        },
      });
    }
    services.push(service);
  }
  return services;
}

async function answer(
  o: HostOptions,
  module: string,
  action: string,
  msg: ServiceMsg,
): Promise<void> {
  try {
    const { ctx, input } = decodeCall(msg.data, o.clock.now());
    const dispatch = () => o.dispatcher.dispatch(module, action, input, ctx, true);
    // Headers carry only trace context: without them the call has no remote parent.
    const headers = msg.headers;
    const result = headers
      ? await context.with(
          contextFromHeaders((name) => headers.get(name) || undefined),
          dispatch,
        )
      : await dispatch();
    msg.respond(encodeBody(result));
  } catch (err) {
    const e = toAppError(err);
    msg.respondError(e.status, e.message, encodeBody(e.toJSON()));
  }
}
