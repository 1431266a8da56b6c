#!/usr/bin/env bun
import { inventoryModule } from '../modules/inventory/index.ts';
import { orderModule } from '../modules/order/index.ts';
import { paymentModule } from '../modules/payment/index.ts';
import { userModule } from '../modules/user/index.ts';
import { ConfigError, embeddedDataWarning, helpText, parseConfig } from './config.ts';
import type { ModuleDefinition } from './module.ts';
import { migrateAll, startNode, VERSION } from './node.ts';
import { createLogger } from './observability/log.ts';

/** The one place that knows every module: main wires them into the kernel. */
export const allModules = [
  userModule,
  inventoryModule,
  paymentModule,
  orderModule,
] as unknown as ModuleDefinition[];

async function main(): Promise<void> {
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(
      process.argv.slice(2),
      process.env,
      allModules.map((m) => m.contract.name),
    );
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`bunshop: ${err.message}\n`);
    process.exit(2);
  }
  if (config.command === 'help') return void process.stdout.write(helpText(VERSION));
  if (config.command === 'version') return void process.stdout.write(`bunshop ${VERSION}\n`);
  if (config.command === 'nodes') {
    const { connectNats, discoverNodes, formatNodes } = await import('./transport/nats-mode.ts');
    const nc = await connectNats(config);
    const nodes = await discoverNodes(nc, config.subjectPrefix, undefined, Date.now());
    await nc.close();
    return void process.stdout.write(formatNodes(nodes));
  }
  if (config.command === 'migrate') {
    const log = createLogger(config.logLevel, { node: config.nodeId }, undefined, config.logFormat);
    const embedded = embeddedDataWarning(config);
    if (embedded) log.warn(embedded);
    const { dbs } = await migrateAll(config, allModules, log);
    await dbs.close();
    log.info('migrations up to date', { modules: config.modules });
    return;
  }
  const node = await startNode(config, allModules);
  const shutdown = (signal: string) => {
    node.log.info('signal received', { signal });
    node.stop().then(
      () => process.exit(0),
      (err) => {
        node.log.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (import.meta.main) {
  main().catch((err) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`bunshop: failed to start: ${message}\n`);
    process.exit(1);
  });
}
