import { describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dir, '..', '..');
const command = process.env.BUNSHOP_BIN
  ? [process.env.BUNSHOP_BIN]
  : [process.execPath, join(root, 'src', 'main.ts')];

function run(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawnSync([...command, ...args], {
    env: { ...process.env, ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  return { code: proc.exitCode, out: proc.stdout.toString(), err: proc.stderr.toString() };
}

describe('command line', () => {
  test('--help lists every flag with its environment variable', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    for (const s of [
      '--port',
      'PORT',
      '--data-dir',
      'DATA_DIR',
      '--modules',
      'MODULES',
      'DATABASE_URL',
      'JWT_SECRET',
      'ADMIN_EMAIL',
      'LOG_LEVEL',
      'migrate',
    ]) {
      expect(r.out).toContain(s);
    }
  });

  test('--version prints the version', () => {
    const r = run(['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^bunshop \d+\.\d+\.\d+\n$/);
  });

  test('a bad flag or value is one clear line on stderr and exit code 2', () => {
    for (const args of [['--no-such-flag'], ['--port', 'x'], ['--modules', 'nope']]) {
      const r = run(args);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toStartWith('bunshop: ');
    }
    const env = run([], { JWT_SECRET: 'too-short' });
    expect(env.code).toBe(2);
  });

  test('migrate applies the migrations to a new data directory and exits 0, twice', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bunshop-migrate-'));
    try {
      const first = run(['migrate', '--data-dir', dir]);
      expect(first.code).toBe(0);
      expect(first.out).toContain('migrations applied');
      const second = run(['migrate', '--data-dir', dir]);
      expect(second.code).toBe(0);
      expect(second.out).not.toContain('migrations applied');
      expect(second.out).toContain('migrations up to date');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('over NATS without DATABASE_URL, migrate warns that the data stays on this node', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bunshop-migrate-'));
    const warning = /DATABASE_URL is not set: user keep their data in embedded PGlite/;
    try {
      // Nothing from the caller's environment may name a database or a transport here.
      const clean = { DATABASE_URL: '', DATABASE_URL_USER: '', TRANSPORT: '', MODULES: '' };
      const overNats = run(['migrate', '--data-dir', dir, '--modules=user', '--transport=nats'], {
        ...clean,
        JWT_SECRET: 'a-secret-of-at-least-32-characters-0000',
      });
      expect(overNats.code).toBe(0);
      expect(overNats.out + overNats.err).toMatch(warning);
      // One process with every module: embedded data is the point, no warning.
      const local = run(['migrate', '--data-dir', dir], clean);
      expect(local.code).toBe(0);
      expect(local.out + local.err).not.toMatch(/DATABASE_URL is not set/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
