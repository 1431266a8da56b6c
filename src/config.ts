import { hostname } from 'node:os';
import { type LogLevel, LogLevels } from './observability/log.ts';

/** A configuration mistake: one line for stderr, exit code 2. */
export class ConfigError extends Error {}

type Kind = 'int' | 'string' | 'bool' | 'list';

interface Option {
  /** Command-line flag, without `--`; absent for secrets, which come only from the environment. */
  flag?: string;
  env: string;
  kind: Kind;
  help: string;
  default?: string;
  min?: number;
  max?: number;
  choices?: readonly string[];
}

/** Every setting, its flag, its environment variable and its default: the one source of --help. */
export const options = {
  port: {
    flag: 'port',
    env: 'PORT',
    kind: 'int',
    min: 0,
    max: 65535,
    default: '3000',
    help: 'HTTP port',
  },
  host: {
    flag: 'host',
    env: 'HOST',
    kind: 'string',
    default: '0.0.0.0',
    help: 'HTTP listen address',
  },
  dataDir: {
    flag: 'data-dir',
    env: 'DATA_DIR',
    kind: 'string',
    default: './data',
    help: 'where embedded Postgres keeps its files',
  },
  modules: {
    flag: 'modules',
    env: 'MODULES',
    kind: 'list',
    default: 'all',
    help: 'modules this node hosts, comma-separated, or all',
  },
  databaseUrl: {
    flag: 'database-url',
    env: 'DATABASE_URL',
    kind: 'string',
    help: 'Postgres URL; without it, embedded PGlite in the data directory',
  },
  dbPoolSize: {
    flag: 'db-pool-size',
    env: 'DB_POOL_SIZE',
    kind: 'int',
    min: 1,
    max: 200,
    default: '10',
    help: 'Postgres connections per database',
  },
  jwtSecret: {
    env: 'JWT_SECRET',
    kind: 'string',
    help: 'HS256 key for access tokens, at least 32 characters',
  },
  adminEmail: {
    env: 'ADMIN_EMAIL',
    kind: 'string',
    help: 'admin account ensured at start-up (with ADMIN_PASSWORD)',
  },
  adminPassword: {
    env: 'ADMIN_PASSWORD',
    kind: 'string',
    help: 'password of that admin account, 8 to 128 characters',
  },
  logLevel: {
    flag: 'log-level',
    env: 'LOG_LEVEL',
    kind: 'string',
    default: 'info',
    choices: Object.keys(LogLevels),
    help: 'log threshold',
  },
  tokenTtlSeconds: {
    flag: 'token-ttl-seconds',
    env: 'TOKEN_TTL_SECONDS',
    kind: 'int',
    min: 60,
    max: 86400,
    default: '3600',
    help: 'access token lifetime',
  },
  requestTimeoutMs: {
    flag: 'request-timeout-ms',
    env: 'REQUEST_TIMEOUT_MS',
    kind: 'int',
    min: 100,
    max: 120000,
    default: '5000',
    help: 'deadline of each HTTP request',
  },
  sagaTimeoutMs: {
    flag: 'saga-timeout-ms',
    env: 'SAGA_TIMEOUT_MS',
    kind: 'int',
    min: 1000,
    max: 3600000,
    default: '60000',
    help: 'an order still failing transiently after this is rejected',
  },
  maxPendingOrders: {
    flag: 'max-pending-orders',
    env: 'MAX_PENDING_ORDERS',
    kind: 'int',
    min: 1,
    max: 10000,
    default: '20',
    help: 'PENDING orders a user may have at once',
  },
  signinMaxPerEmail: {
    flag: 'signin-max-per-email',
    env: 'SIGNIN_MAX_PER_EMAIL',
    kind: 'int',
    min: 1,
    max: 1000000,
    default: '10',
    help: 'failed sign-ins per email per window',
  },
  signinMaxPerAddress: {
    flag: 'signin-max-per-address',
    env: 'SIGNIN_MAX_PER_ADDRESS',
    kind: 'int',
    min: 1,
    max: 1000000,
    default: '100',
    help: 'failed sign-ins per client address per window',
  },
  signinWindowSeconds: {
    flag: 'signin-window-seconds',
    env: 'SIGNIN_WINDOW_SECONDS',
    kind: 'int',
    min: 1,
    max: 86400,
    default: '900',
    help: 'window of the sign-in limits',
  },
  rateLimitPerMinute: {
    flag: 'rate-limit-per-minute',
    env: 'RATE_LIMIT_PER_MINUTE',
    kind: 'int',
    min: 0,
    max: 10000000,
    default: '0',
    help: 'requests per client address per minute; 0 is off',
  },
  trustProxy: {
    flag: 'trust-proxy',
    env: 'TRUST_PROXY',
    kind: 'bool',
    default: 'false',
    help: 'take the client address from Fly-Client-IP or X-Forwarded-For',
  },
  nodeId: {
    flag: 'node-id',
    env: 'NODE_ID',
    kind: 'string',
    help: 'name of this node in logs and saga leases',
  },
} as const satisfies Record<string, Option>;

type Options = typeof options;
type ValueOf<O extends Option> = O['kind'] extends 'int'
  ? number
  : O['kind'] extends 'bool'
    ? boolean
    : O['kind'] extends 'list'
      ? string[]
      : string;

export type Config = {
  [K in keyof Options]: Options[K] extends { default: string }
    ? ValueOf<Options[K]>
    : ValueOf<Options[K]> | undefined;
} & {
  command: 'serve' | 'migrate' | 'help' | 'version';
  /** DATABASE_URL_<MODULE> overrides, by module. */
  moduleDatabaseUrls: Record<string, string>;
  logLevel: LogLevel;
  /** True when JWT_SECRET was not set and a random one is in use. */
  ephemeralSecret: boolean;
  jwtSecret: string;
  nodeId: string;
};

const commands = ['serve', 'migrate', 'help', 'version'] as const;

/** Parses flags and environment once, at start-up; throws ConfigError with a fix in the message. */
export function parseConfig(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  knownModules: readonly string[],
): Config {
  const raw: Record<string, string> = {};
  for (const [key, opt] of Object.entries(options) as [string, Option][]) {
    const fromEnv = env[opt.env];
    if (fromEnv !== undefined && fromEnv !== '') raw[key] = fromEnv;
  }
  let command: Config['command'] = 'serve';
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') command = 'help';
    else if (arg === '--version' || arg === '-v') command = 'version';
    else if (arg.startsWith('--')) {
      const [name, inline] = splitFlag(arg.slice(2));
      const entry = Object.entries(options).find(
        ([, o]) => (o as Option).flag === name.replace(/^no-/, ''),
      );
      if (!entry) throw new ConfigError(`unknown flag --${name}; see bunshop --help`);
      const [key, opt] = entry as [string, Option];
      if (opt.kind === 'bool' && inline === undefined)
        raw[key] = name.startsWith('no-') ? 'false' : 'true';
      else {
        const value = inline ?? argv[++i];
        if (value === undefined) throw new ConfigError(`--${name} needs a value`);
        raw[key] = value;
      }
    } else positional.push(arg);
  }
  if (positional.length > 1)
    throw new ConfigError(`unexpected argument ${positional[1]}; see bunshop --help`);
  if (positional[0] && command === 'serve') {
    if (!commands.includes(positional[0] as Config['command'])) {
      throw new ConfigError(
        `unknown command ${positional[0]}; commands are ${commands.join(', ')}`,
      );
    }
    command = positional[0] as Config['command'];
  }
  const config = { command } as Record<string, unknown>;
  for (const [key, opt] of Object.entries(options) as [string, Option][]) {
    const value = raw[key] ?? opt.default;
    config[key] = value === undefined ? undefined : convert(opt, value);
  }
  const modules = config.modules as string[];
  config.modules = modules.length === 1 && modules[0] === 'all' ? [...knownModules] : modules;
  for (const m of config.modules as string[]) {
    if (!knownModules.includes(m))
      throw new ConfigError(
        `unknown module ${m} in --modules/MODULES; known: ${knownModules.join(', ')}`,
      );
  }
  config.moduleDatabaseUrls = Object.fromEntries(
    knownModules.flatMap((m) => {
      const url = env[`DATABASE_URL_${m.toUpperCase()}`];
      return url ? [[m, url]] : [];
    }),
  );
  const secret = config.jwtSecret as string | undefined;
  if (secret !== undefined && secret.length < 32)
    throw new ConfigError(
      'JWT_SECRET must be at least 32 characters; generate one with: openssl rand -base64 48',
    );
  config.ephemeralSecret = secret === undefined;
  config.jwtSecret =
    secret ?? Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString('base64');
  if ((config.adminEmail === undefined) !== (config.adminPassword === undefined)) {
    throw new ConfigError('set both ADMIN_EMAIL and ADMIN_PASSWORD, or neither');
  }
  const pw = config.adminPassword as string | undefined;
  if (pw !== undefined && (pw.length < 8 || pw.length > 128))
    throw new ConfigError('ADMIN_PASSWORD must be 8 to 128 characters');
  config.nodeId ??= `${hostname()}-${process.pid}`;
  return config as Config;
}

function splitFlag(s: string): [string, string | undefined] {
  const eq = s.indexOf('=');
  return eq < 0 ? [s, undefined] : [s.slice(0, eq), s.slice(eq + 1)];
}

function convert(opt: Option, value: string): unknown {
  const name = opt.flag ? `--${opt.flag}/${opt.env}` : opt.env;
  switch (opt.kind) {
    case 'int': {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < (opt.min ?? 0) || n > (opt.max ?? Number.MAX_SAFE_INTEGER)) {
        throw new ConfigError(
          `${name} must be a whole number from ${opt.min ?? 0} to ${opt.max}, not ${JSON.stringify(value)}`,
        );
      }
      return n;
    }
    case 'bool':
      if (!['true', 'false', '1', '0'].includes(value))
        throw new ConfigError(`${name} must be true or false, not ${JSON.stringify(value)}`);
      return value === 'true' || value === '1';
    case 'list':
      return value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      if (opt.choices && !opt.choices.includes(value)) {
        throw new ConfigError(
          `${name} must be one of ${opt.choices.join(', ')}, not ${JSON.stringify(value)}`,
        );
      }
      return value;
  }
}

export function helpText(version: string): string {
  const rows = (Object.values(options) as Option[]).map((o) => {
    const flag = o.flag
      ? `--${o.flag}${o.kind === 'bool' ? '' : ' <value>'}`
      : '(environment only)';
    const def = o.default !== undefined ? ` (default ${o.default})` : '';
    return `  ${flag.padEnd(34)} ${o.env.padEnd(24)} ${o.help}${def}`;
  });
  return `bunshop ${version}: a commerce backend in one binary

Usage:
  bunshop [serve] [flags]   run the HTTP API and the modules (the default)
  bunshop migrate [flags]   apply database migrations of the hosted modules and exit
  bunshop --help | --version

Flags and environment variables (a flag wins over its variable):
${rows.join('\n')}
  DATABASE_URL_<MODULE>                                      Postgres URL for one module, e.g. DATABASE_URL_ORDER
`;
}
