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
