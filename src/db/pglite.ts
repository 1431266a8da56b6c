import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import initdbPath from '@electric-sql/pglite/initdb.wasm' with { type: 'file' };
import fsBundlePath from '@electric-sql/pglite/pglite.data' with { type: 'file' };
import wasmPath from '@electric-sql/pglite/pglite.wasm' with { type: 'file' };
import { drizzle } from 'drizzle-orm/pglite';
import { traceTransactions } from './traced.ts';
import type { Database, Db } from './types.ts';

/**
 * Embedded Postgres. The three PGlite assets are imported as files so that
 * `bun build --compile` carries them inside the binary.
 */
export async function openPglite(dataDir: string): Promise<Database> {
  const inMemory = dataDir.startsWith('memory://');
  const location = inMemory ? dataDir : resolve(dataDir, 'pg');
  if (!inMemory) mkdirSync(location, { recursive: true });
  const [pgliteWasmModule, initdbWasmModule] = await Promise.all([
    WebAssembly.compile(await Bun.file(wasmPath).arrayBuffer()),
    WebAssembly.compile(await Bun.file(initdbPath).arrayBuffer()),
  ]);
  const client = await PGlite.create({
    dataDir: location,
    pgliteWasmModule,
    initdbWasmModule,
    fsBundle: Bun.file(fsBundlePath),
    // PGlite's default 128 MB of shared buffers doubles a laptop process's memory for no gain.
    startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'],
  });
  const db = traceTransactions(drizzle({ client }) as unknown as Db, 'postgresql', 'pglite');
  return {
    kind: 'pglite',
    describe: inMemory ? 'embedded PGlite in memory' : `embedded PGlite in ${location}`,
    db,
    exec: async (sqlText) => {
      await client.exec(sqlText);
    },
    ping: async () => {
      if (client.closed) throw new Error('database closed');
      await client.query('select 1');
    },
    close: () => client.close(),
  };
}
