import type { Role } from '../context.ts';
import { AppError } from '../errors.ts';
import { Hs256 } from './jwt.ts';

const issuer = 'bunshop';
const audience = 'bunshop-api';
const maxTokenLength = 4096;
const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TokenClaims {
  userId: string;
  role: Role;
}

/** HS256 access tokens with `iss`, `aud` and `exp`; the algorithm is pinned on verify. */
export class TokenService {
  readonly #key: Hs256;

  constructor(
    secret: string,
    readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.#key = new Hs256(secret);
  }

  issue(claims: TokenClaims): string {
    const iat = Math.floor(this.now() / 1000);
    return this.#key.sign({
      sub: claims.userId,
      role: claims.role,
      iss: issuer,
      aud: audience,
      iat,
      nbf: iat,
      exp: iat + this.ttlSeconds,
    });
  }

  /** The claims of a valid token; every failure is the same 401 so nothing leaks. */
  verify(token: string): TokenClaims {
    if (token.length > maxTokenLength) throw invalid();
    const now = Math.floor(this.now() / 1000);
    const payload = this.#key.verify(token, { iss: issuer, aud: audience, now });
    if (!payload) throw invalid();
    const { sub, role } = payload;
    // A non-UUID subject would reach module inputs and fail there as a 400 or a 500.
    if (typeof sub !== 'string' || !uuidShape.test(sub)) throw invalid();
    if (role !== 'customer' && role !== 'admin') throw invalid();
    return { userId: sub, role };
  }
}

const invalid = () =>
  new AppError('unauthorized', 'The access token is missing, invalid or expired.');
export const missingToken = invalid;
