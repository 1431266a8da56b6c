import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './load.ts';
import { freePort, spawnServer, stopAll, until200 } from './processes.ts';
import { benchSecret, seedPglite, seedPostgres } from './seed.ts';
import { binary, spawnMoleculer } from './targets.ts';

export interface ColdStart {
  name: string;
  path: string;
  medianMs: number;
  runs: number[];
}

/** One cold start: spawn, wait for the first 200 on `path`, stop; the milliseconds it took. */
export async function coldStart(
  path: string,
  spawn: (port: number) => ReturnType<typeof spawnServer>,
): Promise<number> {
  const port = freePort();
  const started = performance.now();
  const proc = spawn(port);
  try {
    return await until200(`http://127.0.0.1:${port}${path}`, proc, started, 60_000, 2);
  } finally {
    await stopAll([proc]);
  }
}

/** Spawn to the first 200 on `path`, `times` times, on data that already exists. */
async function measure(
  name: string,
  path: string,
  times: number,
  spawn: (port: number) => ReturnType<typeof spawnServer>,
): Promise<ColdStart> {
  const runs: number[] = [];
  for (let i = 0; i < times; i++) runs.push(await coldStart(path, spawn));
  return { name, path, medianMs: median(runs), runs };
}

/** Cold starts of the compiled binary (Postgres, PGlite) and of the peer in one process. */
export async function coldStarts(adminUrl: string, times: number): Promise<ColdStart[]> {
  const results: ColdStart[] = [];
  const db = await seedPostgres(adminUrl);
  const dir = mkdtempSync(join(tmpdir(), 'bunshop-cold-'));
  try {
    const env = { LOG_LEVEL: 'warn', JWT_SECRET: benchSecret };
    results.push(
      await measure('bunshop binary, existing Postgres database', '/health/ready', times, (port) =>
        spawnServer([binary], { ...env, DATABASE_URL: db.url, PORT: String(port) }),
      ),
    );
    await seedPglite(join(dir, 'data'));
    results.push(
      await measure(
        'bunshop binary, existing PGlite data directory',
        '/health/ready',
        times,
        (port) =>
          spawnServer([binary], { ...env, DATA_DIR: join(dir, 'data'), PORT: String(port) }, dir),
      ),
    );
    results.push(
      await measure(
        'Moleculer, 1 process (no /health/ready: /health/live)',
        '/health/live',
        times,
        (port) => spawnMoleculer(['--mode=one'], { DATABASE_URL: db.url, PORT: String(port) }),
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  }
  return results;
}
