import { join } from 'node:path';
import { freePort, spawnServer } from './processes.ts';
import { benchSecret } from './seed.ts';
import { root } from './targets.ts';

/** What `bench/pair.ts` and `bench/rate-pair.ts` accept in place of a binary. */
const floors: Record<string, string> = {
  floor: 'hono-postgres.ts',
  'contract-floor': 'hono-postgres-contract.ts',
};
const floorOf = (bin: string) => (Object.hasOwn(floors, bin) ? floors[bin] : undefined);

/** The command that starts a binary, or a floor by name. */
export const command = (bin: string): string[] => {
  const floor = floorOf(bin);
  return floor ? [process.execPath, join(root, 'bench', 'floors', floor)] : [bin];
};

/** A floor's name, or a binary's file name. */
export const label = (bin: string): string => (floorOf(bin) ? bin : bin.split('/').pop()!);

/** Starts a build (or a floor) on a seeded database, quietly, on a free port. */
export function spawnBuild(bin: string, databaseUrl: string) {
  const port = freePort();
  const proc = spawnServer(command(bin), {
    LOG_LEVEL: 'warn',
    JWT_SECRET: benchSecret,
    DATABASE_URL: databaseUrl,
    PORT: String(port),
  });
  return { bin, url: `http://127.0.0.1:${port}`, proc };
}
