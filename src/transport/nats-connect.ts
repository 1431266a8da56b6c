import { readFileSync } from 'node:fs';
import {
  type ConnectionOptions,
  connect,
  credsAuthenticator,
  type NatsConnection,
  NatsError,
} from 'nats';
import type { Config } from '../config.ts';

/** Connects with the credentials the configuration names; a refused credential is one clear error. */
export async function connectNats(config: Config): Promise<NatsConnection> {
  const options: ConnectionOptions = {
    servers: config.natsUrl.split(',').map((s) => s.trim()),
    name: `bunshop ${config.nodeId}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    timeout: 5_000,
    // Otherwise every request captures two stack traces up front (for a timeout's message);
    // transport errors become AppErrors without them anyway.
    noAsyncTraces: true,
  };
  if (config.natsToken) options.token = config.natsToken;
  if (config.natsUser) {
    options.user = config.natsUser;
    options.pass = config.natsPassword;
  }
  if (config.natsCreds) options.authenticator = credsAuthenticator(readFileSync(config.natsCreds));
  if (config.natsCa) options.tls = { caFile: config.natsCa };
  try {
    return await connect(options);
  } catch (err) {
    const what =
      err instanceof NatsError && /auth/i.test(`${err.code} ${err.message}`)
        ? 'NATS refused the credentials (check NATS_USER/NATS_PASSWORD, NATS_TOKEN or NATS_CREDS)'
        : `could not connect to NATS at ${redactNats(config.natsUrl)}: ${err instanceof Error ? err.message : String(err)}`;
    throw new Error(what);
  }
}

/** The NATS URL list without passwords, for logs and errors. */
export function redactNats(urls: string): string {
  return urls.replace(/\/\/([^:@/]+):[^@/]+@/g, '//$1:***@');
}
