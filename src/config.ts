import { hostname } from 'node:os';
import type { LogLevel } from './observability/log.ts';
import { type Option, options } from './options.ts';
import { subjectPrefixPattern } from './transport/subjects.ts';

/** A configuration mistake: one line for stderr, exit code 2. */
export class ConfigError extends Error {}

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
  command: 'serve' | 'migrate' | 'nodes' | 'help' | 'version';
  /** DATABASE_URL_<MODULE> overrides, by module. */
  moduleDatabaseUrls: Record<string, string>;
  logLevel: LogLevel;
  logFormat: 'json' | 'pretty';
  /** True when JWT_SECRET was not set and a random one is in use. */
  ephemeralSecret: boolean;
  jwtSecret: string;
  nodeId: string;
  transport: 'local' | 'nats';
  /** Whether this node serves HTTP, after the default for its module set. */
  gateway: boolean;
};

const commands = ['serve', 'migrate', 'nodes', 'help', 'version'] as const;

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
  config.modules =
    modules[0] === 'all' && modules.length === 1
      ? [...knownModules]
      : modules[0] === 'none' && modules.length === 1
        ? []
        : modules;
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
  // On Fly.io the Machine's id survives restarts, so a restarted order node resumes its own sagas at once.
  config.nodeId ??= env.FLY_MACHINE_ID || `${hostname()}-${process.pid}`;
  checkTopology(config as Config, knownModules);
  return config as Config;
}

/**
 * A warning when this node runs on NATS with modules whose data would live in its own embedded
 * PGlite: other nodes, and this role restarted on another machine, would not see that data.
 */
export function embeddedDataWarning(config: Config): string | undefined {
  if (config.transport !== 'nats' || config.databaseUrl) return undefined;
  const embedded = config.modules.filter((m) => !config.moduleDatabaseUrls[m]);
  if (embedded.length === 0) return undefined;
  return `DATABASE_URL is not set: ${embedded.join(', ')} keep their data in embedded PGlite under ${config.dataDir}, on this node only; set DATABASE_URL (or DATABASE_URL_<MODULE>) when running over NATS`;
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
  bunshop nodes [flags]     list the live nodes on NATS_URL and SUBJECT_PREFIX, with request counts
  bunshop --help | --version

Flags and environment variables (a flag wins over its variable):
${rows.join('\n')}
  DATABASE_URL_<MODULE>                                      Postgres URL for one module, e.g. DATABASE_URL_ORDER
`;
}

/** What a node is: its modules, its transport and whether it serves HTTP must fit together. */
function checkTopology(config: Config, knownModules: readonly string[]): void {
  const hostsAll = knownModules.every((m) => config.modules.includes(m));
  config.gateway ??= hostsAll;
  if (config.transport === 'local' && !hostsAll && config.command === 'serve') {
    const missing = knownModules.filter((m) => !config.modules.includes(m));
    throw new ConfigError(
      `--transport=local cannot reach ${missing.join(', ')}, which this node does not host; host every module or use --transport=nats`,
    );
  }
  if (!subjectPrefixPattern.test(config.subjectPrefix)) {
    throw new ConfigError(
      '--subject-prefix/SUBJECT_PREFIX must be dot-separated tokens of letters, digits, - and _',
    );
  }
  if (config.transport === 'nats' && config.ephemeralSecret && config.command === 'serve') {
    throw new ConfigError(
      '--transport=nats needs JWT_SECRET, the same on every node, so tokens verify everywhere',
    );
  }
  if ((config.natsUser === undefined) !== (config.natsPassword === undefined)) {
    throw new ConfigError('set both NATS_USER and NATS_PASSWORD, or neither');
  }
}
