import { randomFillSync } from 'node:crypto';

/** A UUIDv7 (RFC 9562): 48-bit millisecond time, then random bits; bunshop's ids are v7 too. */
export function uuidv7(now = Date.now()) {
  const b = randomFillSync(new Uint8Array(16));
  let t = now;
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
