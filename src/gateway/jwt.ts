import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

/**
 * HS256 JSON Web Tokens (RFC 7519) with a synchronous HMAC. WebCrypto's `subtle.verify`, which
 * hono/jwt uses, imports the key and hops to a worker thread on every call: it was 15 % of the
 * server's CPU on `POST /orders` (bench/README.md). The checks are hono's: a pinned algorithm,
 * `typ` absent or JWT, no `crit`, and `nbf`, `exp`, `iat`, `iss` and `aud` when asked for.
 */
export interface Expected {
  iss: string;
  aud: string;
  /** Seconds since the epoch. */
  now: number;
}

const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
const part = /^[A-Za-z0-9_-]+$/;
const macBytes = 32;

export class Hs256 {
  readonly #key: KeyObject;

  constructor(secret: string) {
    this.#key = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  sign(payload: Record<string, unknown>): string {
    const signed = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    return `${signed}.${this.#mac(signed).toString('base64url')}`;
  }

  /** The payload of a token this key signed and `expected` accepts, else undefined. */
  verify(token: string, expected: Expected): Record<string, unknown> | undefined {
    const parts = token.split('.');
    if (parts.length !== 3 || !parts.every((p) => part.test(p))) return undefined;
    const [head, body, signature] = parts as [string, string, string];
    const given = Buffer.from(signature, 'base64url');
    const mac = this.#mac(`${head}.${body}`);
    if (given.length !== macBytes || !timingSafeEqual(given, mac)) return undefined;
    const h = parse(head);
    if (h?.alg !== 'HS256' || 'crit' in h) return undefined;
    if ('typ' in h && !isJwtType(h.typ)) return undefined;
    const claims = parse(body);
    if (!claims || !withinTimes(claims, expected.now)) return undefined;
    if (claims.iss !== expected.iss) return undefined;
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    return aud.includes(expected.aud) ? claims : undefined;
  }

  #mac(signed: string): Buffer {
    return createHmac('sha256', this.#key).update(signed).digest();
  }
}

function parse(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const isJwtType = (typ: unknown) =>
  typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === 'jwt';

const isTime = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);

/** `exp` is required and in the future; `nbf` and `iat`, when present, not in the future. */
function withinTimes(claims: Record<string, unknown>, now: number): boolean {
  const { exp, nbf, iat } = claims;
  if (!isTime(exp) || exp <= now) return false;
  if (nbf !== undefined && (!isTime(nbf) || nbf > now)) return false;
  return iat === undefined || (isTime(iat) && iat <= now);
}
