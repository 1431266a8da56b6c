import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config.ts';
import { allModules } from '../../src/main.ts';
import { startNode } from '../../src/node.ts';
import { createDatabase, testDb } from './database.ts';
import { spawnNode } from './process.ts';
import { startTopology } from './topology.ts';

export const jwtSecret = 'test-secret-that-is-long-enough-for-hs256-0123456789';
export const admin = { email: 'admin@example.com', password: 'admin-password-1' };

export interface Target {
  baseUrl: string;
  /** The database URL in Postgres mode; undefined for embedded PGlite. */
  databaseUrl?: string;
  dataDir?: string;
  stop(): Promise<void>;
}

/**
 * Starts the whole system in this process on a random port, against the database the
 * run asked for (BUNSHOP_TEST_DB=pglite|postgres), with a fresh database or data directory.
 */
export async function startTarget(env: Record<string, string> = {}): Promise<Target> {
  const pg = testDb === 'postgres' ? await createDatabase() : undefined;
  const dataDir = pg ? undefined : mkdtempSync(join(tmpdir(), 'bunshop-test-'));
  const settings = {
    JWT_SECRET: jwtSecret,
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...(pg ? { DATABASE_URL: pg.url } : { DATA_DIR: dataDir! }),
    ...env,
  };
  if (process.env.BUNSHOP_TEST_TOPOLOGY === 'nats') {
    if (!pg)
      throw new Error(
        'the NATS topology needs BUNSHOP_TEST_DB=postgres: its nodes share one database',
      );
    const topology = await startTopology({ ...settings, LOG_LEVEL: 'info' });
    return {
      baseUrl: topology.gateway.baseUrl,
      databaseUrl: pg.url,
      async stop() {
        await topology.stop();
        await pg.drop();
      },
    };
  }
  if (process.env.BUNSHOP_BIN) return startBinary(settings, pg, dataDir);
  const config = parseConfig(
    ['--port', '0', '--host', '127.0.0.1'],
    settings,
    allModules.map((m) => m.contract.name),
  );
  const node = await startNode(config, allModules);
  return {
    baseUrl: `http://127.0.0.1:${node.port}`,
    databaseUrl: pg?.url,
    dataDir,
    async stop() {
      await node.stop();
      await pg?.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The compiled binary, run from an empty directory: what a person downloads and starts. */
async function startBinary(
  settings: Record<string, string>,
  pg: Awaited<ReturnType<typeof createDatabase>> | undefined,
  dataDir: string | undefined,
): Promise<Target> {
  const cwd = mkdtempSync(join(tmpdir(), 'bunshop-bin-'));
  const node = await spawnNode({ ...settings, LOG_LEVEL: 'info' }, 60_000, cwd);
  return {
    baseUrl: node.baseUrl,
    databaseUrl: pg?.url,
    dataDir,
    async stop() {
      node.proc.kill('SIGTERM');
      await node.exited;
      await pg?.drop();
      for (const dir of [cwd, dataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
