import * as v from 'valibot';
import { systemClock } from '../../src/clock.ts';
import { parseConfig } from '../../src/config.ts';
import type { CallContext } from '../../src/context.ts';
import { action, defineContract, type ServiceOf } from '../../src/contract.ts';
import type { Logger } from '../../src/observability/log.ts';
import type { Metrics } from '../../src/observability/metrics.ts';
import { Dispatcher } from '../../src/transport/dispatcher.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import { connectNats } from '../../src/transport/nats-connect.ts';
import { hostModules } from '../../src/transport/nats-host.ts';
import { routerFor } from '../support/kernel.ts';

/** The module the micro-benchmarks call: one action that returns its input. */
export const echoContract = defineContract('bench', {
  echo: action({
    input: v.object({ n: v.number() }),
    output: v.object({ n: v.number() }),
    idempotent: true,
    summary: 'Return the input.',
  }),
});
export const echoService: ServiceOf<typeof echoContract> = {
  echo: async (input) => ({ n: input.n }),
};

/** A bench caller's context: its own request id, and a deadline no measurement reaches. */
export function benchCallContext(): CallContext {
  return {
    deadline: Date.now() + 3_600_000,
    caller: { kind: 'system', module: 'bench' },
    requestId: crypto.randomUUID(),
  };
}

export const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/**
 * One connection made as a node makes it (src/transport/nats-connect.ts), serving the echo
 * module under a prefix of its own, and a router client that calls it remotely on it.
 */
export async function echoOverNats(name: string, log: Logger, metrics: Metrics) {
  const nc = await connectNats(
    parseConfig(
      ['--transport=nats', `--node-id=${name}`],
      { NATS_URL: natsUrl, JWT_SECRET: 'micro-bench-secret-that-is-long-enough-000000' },
      [],
    ),
  );
  const prefix = `${name}-${Date.now().toString(36)}`;
  const host = new Dispatcher(log, metrics, systemClock);
  host.host(echoContract, echoService);
  const services = await hostModules({
    nc,
    dispatcher: host,
    prefix,
    version: '0.0.0',
    nodeId: 'bench',
    clock: systemClock,
    log,
  });
  const remote = routerFor(
    new Dispatcher(log, metrics, systemClock), // hosts nothing: calls go remote
    new NatsTransport(nc, prefix, systemClock),
    metrics,
    log,
  ).client(echoContract);
  const stop = async () => {
    await Promise.all(services.map((s) => s.stop()));
    await nc.drain();
  };
  return { nc, prefix, remote, stop };
}
