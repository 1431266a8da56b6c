import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import { connect } from 'nats';
import { freePort, spawnServer, stopAll, until200 } from './processes.ts';
import { benchSecret, seedPglite, seedPostgres } from './seed.ts';
import type { Workload } from './wrk.ts';

export const root = join(import.meta.dir, '..', '..');
export const binary = process.env.BENCH_BIN ?? join(root, 'dist', 'bunshop');
const moleculer = join(root, 'bench', 'peers', 'moleculer');

/** The W1 floor with what API.md and DESIGN.md ask of every request (bench/README.md, W1). */
export const contractFloor = 'floor: Hono + postgres.js + the per-request contract';

export interface Running {
  url: string;
  procs: Subprocess[];
  /** The target's own Postgres database, when it has one (not on PGlite). */
  databaseUrl?: string;
  stop(): Promise<void>;
}

export interface Target {
  name: string;
  kind: 'bunshop' | 'peer' | 'floor';
  /** Targets compared with each other run together; one process each, or five over NATS. */
  group: 'one process' | 'five processes';
  workloads: readonly Workload[];
  start(adminUrl: string): Promise<Running>;
}

const all: readonly Workload[] = ['W0', 'W1', 'W1a', 'W2'];
/** Every target runs at the same log level: no per-request log lines anywhere. */
const quiet = { LOG_LEVEL: 'warn', JWT_SECRET: benchSecret };

/** Starts processes on one seeded database; `ready` is polled on the first one's URL. */
async function onPostgres(
  adminUrl: string,
  start: (databaseUrl: string) => { procs: Subprocess[]; url: string; readyPath: string },
): Promise<Running> {
  const db = await seedPostgres(adminUrl);
  let started: ReturnType<typeof start> | undefined;
  try {
    started = start(db.url);
    await until200(`${started.url}${started.readyPath}`, started.procs[0]!);
  } catch (err) {
    // A spawn that throws (no binary built) must not leave the seeded database behind.
    await stopAll(started?.procs ?? []);
    await db.drop();
    throw err;
  }
  const { procs, url } = started;
  return {
    url,
    procs,
    databaseUrl: db.url,
    async stop() {
      await stopAll(procs);
      await db.drop();
    },
  };
}

export const targets: Target[] = [
  {
    name: 'bunshop monolith, Postgres',
    kind: 'bunshop',
    group: 'one process',
    workloads: all,
    start: (adminUrl) =>
      onPostgres(adminUrl, (DATABASE_URL) => {
        const port = freePort();
        const proc = spawnServer([binary], { ...quiet, DATABASE_URL, PORT: String(port) });
        return { procs: [proc], url: `http://127.0.0.1:${port}`, readyPath: '/health/ready' };
      }),
  },
  {
    name: 'bunshop monolith, PGlite',
    kind: 'bunshop',
    group: 'one process',
    workloads: all,
    async start() {
      const dir = mkdtempSync(join(tmpdir(), 'bunshop-bench-'));
      await seedPglite(join(dir, 'data'));
      const port = freePort();
      const proc = spawnServer(
        [binary],
        { ...quiet, DATA_DIR: join(dir, 'data'), PORT: String(port) },
        dir,
      );
      const url = `http://127.0.0.1:${port}`;
      await until200(`${url}/health/ready`, proc);
      return {
        url,
        procs: [proc],
        async stop() {
          await stopAll([proc]);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'bunshop 5 nodes, NATS',
    kind: 'bunshop',
    group: 'five processes',
    workloads: all,
    start: async (adminUrl) => {
      const prefix = `bench${Date.now().toString(36)}`;
      const running = await onPostgres(adminUrl, (DATABASE_URL) => {
        const env = { ...quiet, DATABASE_URL, TRANSPORT: 'nats', SUBJECT_PREFIX: prefix };
        const port = freePort();
        const gateway = spawnServer([binary, '--modules=none', '--gateway'], {
          ...env,
          PORT: String(port),
        });
        const modules = ['user', 'inventory', 'payment', 'order'].map((m) =>
          spawnServer([binary, `--modules=${m}`], { ...env, PORT: String(freePort()) }),
        );
        // Ready means every module answers a NATS ping from the gateway.
        return {
          procs: [gateway, ...modules],
          url: `http://127.0.0.1:${port}`,
          readyPath: '/health/ready',
        };
      });
      // The JetStream stream outlives the nodes: the shared NATS keeps nothing of the bench.
      return {
        ...running,
        stop: () => running.stop().then(() => deleteStream(`${prefix}_events`)),
      };
    },
  },
  {
    name: 'Moleculer, 1 process',
    kind: 'peer',
    group: 'one process',
    workloads: all,
    start: (adminUrl) =>
      onPostgres(adminUrl, (DATABASE_URL) => {
        const port = freePort();
        const proc = spawnMoleculer(['--mode=one'], { DATABASE_URL, PORT: String(port) });
        return { procs: [proc], url: `http://127.0.0.1:${port}`, readyPath: '/health/live' };
      }),
  },
  {
    name: 'Moleculer, 5 processes, NATS',
    kind: 'peer',
    group: 'five processes',
    workloads: all,
    start: (adminUrl) =>
      onPostgres(adminUrl, (DATABASE_URL) => {
        const port = freePort();
        const env = {
          DATABASE_URL,
          MOL_NAMESPACE: `bench${Date.now().toString(36)}`,
          NATS_URL: 'nats://127.0.0.1:4222',
        };
        const start = (services: string, p: number) =>
          spawnMoleculer(['--mode=node', `--services=${services}`], { ...env, PORT: String(p) });
        const procs = [
          start('gateway', port),
          ...['user', 'inventory', 'payment', 'order'].map((s) => start(s, freePort())),
        ];
        return { procs, url: `http://127.0.0.1:${port}`, readyPath: '/health/live' };
      }),
  },
  {
    name: 'floor: bare Bun.serve',
    kind: 'floor',
    group: 'one process',
    workloads: ['W0'],
    async start() {
      const port = freePort();
      const proc = spawnServer([process.execPath, join(root, 'bench', 'floors', 'bun-serve.ts')], {
        PORT: String(port),
      });
      const url = `http://127.0.0.1:${port}`;
      await until200(`${url}/health/live`, proc);
      return { url, procs: [proc], stop: () => stopAll([proc]) };
    },
  },
  {
    name: 'floor: Hono + postgres.js',
    kind: 'floor',
    group: 'one process',
    workloads: all,
    start: (adminUrl) =>
      onPostgres(adminUrl, (DATABASE_URL) => {
        const port = freePort();
        const proc = spawnServer(
          [process.execPath, join(root, 'bench', 'floors', 'hono-postgres.ts')],
          { DATABASE_URL, JWT_SECRET: benchSecret, PORT: String(port) },
        );
        return { procs: [proc], url: `http://127.0.0.1:${port}`, readyPath: '/health/live' };
      }),
  },
  {
    name: contractFloor,
    kind: 'floor',
    group: 'one process',
    workloads: ['W1'],
    start: (adminUrl) =>
      onPostgres(adminUrl, (DATABASE_URL) => {
        const port = freePort();
        const proc = spawnServer(
          [process.execPath, join(root, 'bench', 'floors', 'hono-postgres-contract.ts')],
          { DATABASE_URL, PORT: String(port) },
        );
        return { procs: [proc], url: `http://127.0.0.1:${port}`, readyPath: '/health/live' };
      }),
  },
];

/** The Moleculer peer's start.js on its Node, in its own folder, with the bench secret. */
export function spawnMoleculer(args: string[], env: Record<string, string>): Subprocess {
  return spawnServer(
    [peerNode(), join(moleculer, 'start.js'), ...args],
    { JWT_SECRET: benchSecret, ...env },
    moleculer,
  );
}

/** Node for the peer: BENCH_NODE, a Node installed into the peer's folder, or the one on PATH. */
function peerNode(): string {
  if (process.env.BENCH_NODE) return process.env.BENCH_NODE;
  const local = join(moleculer, 'node_modules', '.bin', 'node');
  return Bun.file(local).size > 0 ? local : 'node';
}

async function deleteStream(name: string): Promise<void> {
  const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
  try {
    await (await nc.jetstreamManager()).streams.delete(name).catch(() => false);
  } finally {
    await nc.close();
  }
}
