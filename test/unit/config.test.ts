import { describe, expect, test } from 'bun:test';
import { ConfigError, embeddedDataWarning, parseConfig } from '../../src/config.ts';

const modules = ['user', 'inventory', 'payment', 'order'];
const parse = (argv: string[], env: Record<string, string> = {}) => parseConfig(argv, env, modules);

describe('configuration', () => {
  test('over NATS, modules without a database URL are named in a warning', () => {
    const secret = { JWT_SECRET: 'a-secret-of-at-least-32-characters-0000' };
    const warn = (argv: string[], env: Record<string, string> = {}) =>
      embeddedDataWarning(parse(argv, { ...secret, ...env }));
    expect(warn(['--modules=user,order', '--transport=nats'])).toMatch(
      /^DATABASE_URL is not set: user, order keep their data in embedded PGlite under \.\/data/,
    );
    expect(
      warn(['--modules=user,order', '--transport=nats'], { DATABASE_URL_ORDER: 'postgres://h/o' }),
    ).toMatch(/not set: user keep/);
    expect(warn(['--modules=user', '--transport=nats'], { DATABASE_URL: 'postgres://h/d' })).toBe(
      undefined,
    );
    expect(warn([])).toBe(undefined);
  });

  test('node id: NODE_ID, else the Fly Machine id (stable across restarts), else hostname-pid', () => {
    expect(parse([], { NODE_ID: 'order-1', FLY_MACHINE_ID: 'e82d' }).nodeId).toBe('order-1');
    expect(parse([], { FLY_MACHINE_ID: 'e82d' }).nodeId).toBe('e82d');
    expect(parse([]).nodeId).toMatch(new RegExp(`-${process.pid}$`));
  });

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
    const secret = { JWT_SECRET: 'x'.repeat(32) };
    const orderNode = parse(['--modules', 'order,payment', '--transport=nats'], secret);
    expect(orderNode.modules).toEqual(['order', 'payment']);
    expect(orderNode.gateway).toBe(false);
    expect(parse(['--modules', 'order', '--transport=nats', '--gateway'], secret).gateway).toBe(
      true,
    );
    expect(parse(['--no-gateway']).gateway).toBe(false);
    expect(parse([]).gateway).toBe(true);
    expect(parse(['migrate', '--modules', 'order']).modules).toEqual(['order']);
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
    [
      'local transport without every module',
      ['--modules', 'order'],
      {},
      /--transport=local cannot reach user, inventory, payment/,
    ],
    ['an unknown transport', ['--transport', 'grpc'], {}, /must be one of local, nats/],
    [
      'NATS without a shared JWT secret',
      ['--transport', 'nats'],
      {},
      /--transport=nats needs JWT_SECRET/,
    ],
    [
      'a subject prefix with a wildcard',
      ['--subject-prefix', 'shop.>'],
      {},
      /--subject-prefix\/SUBJECT_PREFIX must be/,
    ],
    ['half the NATS user pair', [], { NATS_USER: 'svc' }, /both NATS_USER and NATS_PASSWORD/],
  ];
  for (const [what, argv, env, message] of bad) {
    test(`refuses ${what} with a message that says how to fix it`, () => {
      expect(() => parse(argv, env)).toThrow(ConfigError);
      expect(() => parse(argv, env)).toThrow(message);
    });
  }
});
