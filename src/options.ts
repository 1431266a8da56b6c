import { LogLevels } from './observability/log.ts';

export type Kind = 'int' | 'string' | 'bool' | 'list';

export interface Option {
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
    help: 'modules this node hosts, comma-separated, or all, or none (a gateway only)',
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
  logFormat: {
    flag: 'log-format',
    env: 'LOG_FORMAT',
    kind: 'string',
    default: 'json',
    choices: ['json', 'pretty'],
    help: 'json lines for collectors, or pretty for a terminal',
  },
  metricsPort: {
    flag: 'metrics-port',
    env: 'METRICS_PORT',
    kind: 'int',
    min: 0,
    max: 65535,
    help: 'also serve /metrics (and health) on this port, e.g. one kept off the public network',
  },
  shutdownDelayMs: {
    flag: 'shutdown-delay-ms',
    env: 'SHUTDOWN_DELAY_MS',
    kind: 'int',
    min: 0,
    max: 120000,
    default: '0',
    help: 'on SIGTERM, answer readiness 503 this long before draining, so load balancers stop first',
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
  sagaLeaseMs: {
    flag: 'saga-lease-ms',
    env: 'SAGA_LEASE_MS',
    kind: 'int',
    min: 1000,
    max: 600000,
    default: '15000',
    help: 'how long an order node may go silent before another resumes its sagas',
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
  transport: {
    flag: 'transport',
    env: 'TRANSPORT',
    kind: 'string',
    default: 'local',
    choices: ['local', 'nats'],
    help: 'how to reach modules this node does not host',
  },
  gateway: {
    flag: 'gateway',
    env: 'GATEWAY',
    kind: 'bool',
    help: 'serve HTTP (default: on when hosting every module; --no-gateway turns it off)',
  },
  natsUrl: {
    flag: 'nats-url',
    env: 'NATS_URL',
    kind: 'string',
    default: 'nats://127.0.0.1:4222',
    help: 'NATS servers, comma-separated; credentials in the URL are allowed',
  },
  subjectPrefix: {
    flag: 'subject-prefix',
    env: 'SUBJECT_PREFIX',
    kind: 'string',
    default: 'bunshop',
    help: 'first subject tokens, so several deployments can share one NATS',
  },
  natsToken: { env: 'NATS_TOKEN', kind: 'string', help: 'NATS token authentication' },
  natsUser: { env: 'NATS_USER', kind: 'string', help: 'NATS user (with NATS_PASSWORD)' },
  natsPassword: { env: 'NATS_PASSWORD', kind: 'string', help: 'NATS password' },
  natsCreds: {
    env: 'NATS_CREDS',
    kind: 'string',
    help: 'path of a NATS .creds file (JWT and NKey)',
  },
  natsCa: { env: 'NATS_CA', kind: 'string', help: 'path of a CA certificate for NATS over TLS' },
  nodeId: {
    flag: 'node-id',
    env: 'NODE_ID',
    kind: 'string',
    help: 'name of this node in logs and saga leases (default: FLY_MACHINE_ID, else hostname-pid)',
  },
} as const satisfies Record<string, Option>;
