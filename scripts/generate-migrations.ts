/**
 * Generates each module's SQL migrations with drizzle-kit, then writes
 * migrations/<module>/index.ts, which imports every SQL file as text so that the
 * compiled binary carries them. Run after changing any modules/<name>/schema.ts:
 *   npm run db:generate -- <migration-name>
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { manifest, root } from './migration-manifest.ts';

const modules = readdirSync(join(root, 'modules'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

const name = process.argv[2];
for (const module of modules) {
  const run = Bun.spawnSync(
    [
      join(root, 'node_modules', '.bin', 'drizzle-kit'),
      'generate',
      ...(name ? [`--name=${name}`] : []),
    ],
    {
      cwd: root,
      env: { ...process.env, BUNSHOP_MODULE: module },
      stdout: 'inherit',
      stderr: 'inherit',
    },
  );
  if (run.exitCode !== 0) process.exit(run.exitCode ?? 1);
  await Bun.write(join(root, 'migrations', module, 'index.ts'), await manifest(module));
}
