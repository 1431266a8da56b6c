import { describe, expect, test } from 'bun:test';
import { ConfigError, parseConfig } from '../../src/config.ts';

const modules = ['user', 'inventory', 'payment', 'order'];
const parse = (argv: string[], env: Record<string, string> = {}) => parseConfig(argv, env, modules);

describe('configuration', () => {
  test('defaults: serve every module on port 3000 with embedded Postgres in ./data', () => {
    const c = parse([]);
    expect(c.command).toBe('serve');
    expect(c.port).toBe(3000);
    expect(c.dataDir).toBe('./data');
    expect(c.modules).toEqual(modules);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.ephemeralSecret).toBe(true);
    expect(c.jwtSecret.length).toBeGreaterThanOrEqual(32);
  });

  test('environment sets values and flags win over it', () => {
    const c = parse(['--port=4000', '--data-dir', '/srv/shop'], {
      PORT: '5000',
      DATA_DIR: '/x',
      LOG_LEVEL: 'warn',
    });
    expect(c.port).toBe(4000);
    expect(c.dataDir).toBe('/srv/shop');
    expect(c.logLevel).toBe('warn');
  });

  test('commands, module lists and per-module database URLs', () => {
    expect(parse(['migrate']).command).toBe('migrate');
    expect(parse(['serve', '--help']).command).toBe('help');
    expect(parse(['--version']).command).toBe('version');
    expect(parse(['--modules', 'order,payment']).modules).toEqual(['order', 'payment']);
    expect(parse([], { DATABASE_URL_ORDER: 'postgres://o/db' }).moduleDatabaseUrls).toEqual({
      order: 'postgres://o/db',
    });
    expect(parse(['--trust-proxy']).trustProxy).toBe(true);
  });

  const bad: [string, string[], Record<string, string>, RegExp][] = [
    ['an unknown flag', ['--bogus'], {}, /unknown flag --bogus/],
    [
      'a port out of range',
      ['--port', '70000'],
      {},
      /--port\/PORT must be a whole number from 0 to 65535/,
    ],
    ['a non-numeric port', [], { PORT: 'abc' }, /PORT must be a whole number/],
    ['an unknown module', ['--modules', 'user,shipping'], {}, /unknown module shipping/],
    [
      'a short JWT secret',
      [],
      { JWT_SECRET: 'short' },
      /JWT_SECRET must be at least 32 characters/,
    ],
    [
      'half the admin pair',
      [],
      { ADMIN_EMAIL: 'a@example.com' },
      /both ADMIN_EMAIL and ADMIN_PASSWORD/,
    ],
    [
      'an unknown log level',
      ['--log-level', 'loud'],
      {},
      /must be one of debug, info, warn, error, silent/,
    ],
    ['an unknown command', ['explode'], {}, /unknown command explode/],
    ['a flag without its value', ['--port'], {}, /--port needs a value/],
  ];
  for (const [what, argv, env, message] of bad) {
    test(`refuses ${what} with a message that says how to fix it`, () => {
      expect(() => parse(argv, env)).toThrow(ConfigError);
      expect(() => parse(argv, env)).toThrow(message);
    });
  }
});
