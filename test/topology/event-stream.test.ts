import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { createDatabase } from '../support/database.ts';
import { deleteEventStream, natsUrl } from '../support/nats.ts';
import { type NodeProcess, spawnNode } from '../support/process.ts';
import { jwtSecret } from '../support/target.ts';

/** EVENTS_REPLICAS: the event stream's copies, set when a node creates it. */
const prefix = `s${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const stream = `${prefix}_events`;
const cwd = mkdtempSync(join(tmpdir(), 'bunshop-stream-'));
let db: Awaited<ReturnType<typeof createDatabase>>;
const nodes: NodeProcess[] = [];

const env = () => ({
  DATABASE_URL: db.url,
  JWT_SECRET: jwtSecret,
  TRANSPORT: 'nats',
  SUBJECT_PREFIX: prefix,
  MODULES: 'user',
});

const nc: NatsConnection = await connect({ servers: natsUrl });
// One nats-server cannot keep three copies; a cluster could, and then there is nothing to see.
const clustered = Boolean(nc.info?.cluster);

beforeAll(async () => {
  db = await createDatabase();
}, 60_000);

afterAll(async () => {
  for (const node of nodes) node.proc.kill('SIGTERM');
  await Promise.all(nodes.map((n) => n.exited));
  await nc.drain();
  await deleteEventStream(prefix);
  await db?.drop();
  rmSync(cwd, { recursive: true, force: true });
});

const replicasOf = async () =>
  (await (await nc.jetstreamManager()).streams.info(stream)).config.num_replicas;

test.skipIf(clustered)(
  'a stream the server cannot replicate stops the node with a message naming the setting',
  async () => {
    await expect(
      spawnNode({ ...env(), EVENTS_REPLICAS: '3', NODE_ID: `${prefix}-a` }, 60_000, cwd),
    ).rejects.toThrow(
      /could not create or read the event stream .* with 3 replica\(s\) \(EVENTS_REPLICAS\)/,
    );
  },
  60_000,
);

test('by default the node creates it with one replica; a node asking for more warns', async () => {
  nodes.push(await spawnNode({ ...env(), NODE_ID: `${prefix}-b` }, 60_000, cwd));
  expect(await replicasOf()).toBe(1);
  expect(nodes[0]!.output()).not.toContain('EVENTS_REPLICAS asks');

  const asking = await spawnNode(
    { ...env(), EVENTS_REPLICAS: '2', NODE_ID: `${prefix}-c` },
    60_000,
    cwd,
  );
  nodes.push(asking);
  expect(asking.output()).toContain(
    `the event stream ${stream} has 1 replica(s), EVENTS_REPLICAS asks 2`,
  );
  expect(await replicasOf()).toBe(1);
}, 60_000);
