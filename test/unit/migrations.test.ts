import { describe, expect, test } from 'bun:test';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manifest, root } from '../../scripts/migration-manifest.ts';

const modules = readdirSync(join(root, 'modules'));

describe('migrations', () => {
  for (const module of modules) {
    test(`${module}: the embedded manifest lists every generated migration`, async () => {
      const committed = await Bun.file(join(root, 'migrations', module, 'index.ts')).text();
      expect(committed).toBe(await manifest(module));
    });

    test(`${module}: schema.ts and the migrations agree (drizzle-kit generates nothing new)`, () => {
      const scratch = mkdtempSync(join(tmpdir(), 'bunshop-drift-'));
      try {
        cpSync(join(root, 'migrations', module), scratch, { recursive: true });
        const before = readdirSync(scratch).length;
        const run = Bun.spawnSync([join(root, 'node_modules', '.bin', 'drizzle-kit'), 'generate'], {
          cwd: root,
          env: { ...process.env, BUNSHOP_MODULE: module, BUNSHOP_MIGRATIONS_OUT: scratch },
        });
        expect(run.exitCode).toBe(0);
        expect(readdirSync(scratch).length).toBe(before);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    }, 30_000);
  }
});
