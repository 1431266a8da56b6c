/**
 * `bun bench/cold-pair.ts <binary> [<binary> ...] [--times=N]`: which build starts sooner. Each
 * binary is spawned in turn on one seeded Postgres database (the bench's data), N times (12 by
 * default), and each one's median time from spawn to the first 200 on `/health/ready` printed.
 * Spawning them alternately keeps the machine's drift (20 % within minutes here) out of the
 * comparison; the bench's own cold start measures one build at one moment.
 *
 *   bun bench/cold-pair.ts /tmp/bunshop-before dist/bunshop --times=16
 */

import { coldStart } from './support/cold-start.ts';
import { median } from './support/load.ts';
import { spawnServer } from './support/processes.ts';
import { benchSecret, seedPostgres } from './support/seed.ts';

const args = process.argv.slice(2);
const times = Number(args.find((a) => a.startsWith('--times='))?.slice(8) ?? 12);
const binaries = args.filter((a) => !a.startsWith('--'));
if (binaries.length === 0) {
  console.error('usage: bun bench/cold-pair.ts <binary> [<binary> ...] [--times=N]');
  process.exit(2);
}
const adminUrl = process.env.BENCH_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test';
const db = await seedPostgres(adminUrl);
const runs: number[][] = binaries.map(() => []);
try {
  for (let i = 0; i < times; i++) {
    for (const [b, binary] of binaries.entries()) {
      const env = { LOG_LEVEL: 'warn', JWT_SECRET: benchSecret, DATABASE_URL: db.url };
      runs[b]!.push(
        await coldStart('/health/ready', (port) =>
          spawnServer([binary], { ...env, PORT: String(port) }),
        ),
      );
    }
  }
} finally {
  await db.drop();
}
for (const [b, binary] of binaries.entries()) {
  const ms = runs[b]!;
  console.log(
    `${binary}: median ${median(ms).toFixed(1)} ms (${ms.map((m) => m.toFixed(0)).join(', ')})`,
  );
}
