import { connect } from 'nats';

export const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

export async function natsReachable(): Promise<boolean> {
  try {
    const nc = await connect({ servers: natsUrl, timeout: 3_000, reconnect: false });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

/** Deletes the JetStream stream a test deployment with this subject prefix created. */
export async function deleteEventStream(prefix: string): Promise<void> {
  const nc = await connect({ servers: natsUrl, timeout: 3_000, reconnect: false });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(`${prefix.replaceAll('.', '_')}_events`).catch(() => false);
  } finally {
    await nc.close();
  }
}
