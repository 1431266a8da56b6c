import { openPostgres } from './postgres.ts';
import type { Database } from './types.ts';

export interface DatabaseSettings {
  databaseUrl?: string;
  moduleDatabaseUrls: Record<string, string>;
  dataDir: string;
  dbPoolSize: number;
}

/**
 * Opens one database per distinct location: modules that share a URL (or the embedded
 * PGlite) share one connection pool, each still in its own schema.
 */
export class DatabaseRegistry {
  readonly #open = new Map<string, Promise<Database>>();

  constructor(private readonly settings: DatabaseSettings) {}

  forModule(module: string): Promise<Database> {
    const url = this.settings.moduleDatabaseUrls[module] ?? this.settings.databaseUrl;
    const key = url ?? `pglite:${this.settings.dataDir}`;
    let db = this.#open.get(key);
    if (!db) {
      db = url
        ? openPostgres({ url, poolSize: this.settings.dbPoolSize })
        : // Loaded only when used: a node on Postgres never pays for evaluating PGlite.
          import('./pglite.ts').then((m) => m.openPglite(this.settings.dataDir));
      this.#open.set(key, db);
    }
    return db;
  }

  async all(): Promise<Database[]> {
    return Promise.all(this.#open.values());
  }

  async close(): Promise<void> {
    const all = await Promise.allSettled(this.#open.values());
    await Promise.allSettled(
      all.flatMap((r) => (r.status === 'fulfilled' ? [r.value.close()] : [])),
    );
  }
}
