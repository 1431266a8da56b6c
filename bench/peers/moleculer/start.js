#!/usr/bin/env node
// Starts the Moleculer peer.
//   node start.js --mode=one                          all five services in one local broker
//   node start.js --mode=node --services=gateway,...  the named services, over NATS
//   node start.js --mode=five                         convenience: spawns the five processes
// Env: PORT (3000), DATABASE_URL, JWT_SECRET, NATS_URL (nats://127.0.0.1:4222),
//      MOL_NAMESPACE (bunshop-bench), DB_POOL_SIZE (10), HOST (0.0.0.0).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ServiceBroker } from 'moleculer';
import { closeDb, db } from './lib/db.js';
import gateway from './services/gateway.js';
import inventory from './services/inventory.js';
import order from './services/order.js';
import payment from './services/payment.js';
import user from './services/user.js';

const all = ['gateway', 'user', 'inventory', 'payment', 'order'];
const schemas = { gateway, user, inventory, payment, order };

const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const mode = arg('mode') ?? 'one';

if (mode === 'five') {
  // One child per service, each `--mode=node --services=<name>`; signals are passed on.
  const self = fileURLToPath(import.meta.url);
  const children = all.map((name) =>
    spawn(process.execPath, [self, '--mode=node', `--services=${name}`], { stdio: 'inherit' }),
  );
  let stopping = false;
  const stop = (signal) => {
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill(signal);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  let left = children.length;
  for (const c of children) {
    c.on('exit', (code) => {
      if (!stopping) {
        console.error(`moleculer peer: a service process exited (${code}); stopping the rest`);
        stop('SIGTERM');
        process.exitCode = 1;
      }
      if (--left === 0) process.exit();
    });
  }
} else {
  if (mode !== 'one' && mode !== 'node') {
    console.error('usage: node start.js --mode=one | --mode=node --services=a,b | --mode=five');
    process.exit(2);
  }
  const names = mode === 'one' ? all : (arg('services') ?? '').split(',').filter(Boolean);
  const unknown = names.filter((n) => !all.includes(n));
  if (names.length === 0 || unknown.length > 0) {
    console.error(`--services must name some of ${all.join(',')}`);
    process.exit(2);
  }
  const usesDb = names.some((n) => n !== 'gateway');
  if (usesDb && !process.env.DATABASE_URL) {
    console.error(`DATABASE_URL is required by ${names.filter((n) => n !== 'gateway').join(',')}`);
    process.exit(2);
  }
  const broker = new ServiceBroker({
    namespace: process.env.MOL_NAMESPACE ?? 'bunshop-bench',
    nodeID: `${names.join('+')}-${process.pid}`,
    // One process: a local broker with no transporter. Several: NATS.
    transporter:
      mode === 'one'
        ? null
        : { type: 'NATS', options: { url: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' } },
    serializer: 'JSON',
    logLevel: process.env.MOL_LOG_LEVEL ?? 'warn',
    // start.js stops the broker and closes the database pool itself on SIGINT/SIGTERM.
    skipProcessEventRegistration: true,
  });
  for (const name of names) {
    const schema = schemas[name];
    broker.createService(
      typeof schema === 'function' ? schema({ waitForServices: mode === 'node' }) : schema,
    );
  }
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await broker.stop();
      await closeDb();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Connect before serving, as bunshop does (src/db/postgres.ts runs `select 1` on open).
  if (usesDb) await db()`select 1`;
  await broker.start();
}
