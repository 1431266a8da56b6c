import { sign, verify } from 'hono/jwt';
import type { Role } from '../context.ts';
import { AppError } from '../errors.ts';

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
  constructor(
    private readonly secret: string,
    readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  async issue(claims: TokenClaims): Promise<string> {
    const iat = Math.floor(this.now() / 1000);
    return sign(
      {
        sub: claims.userId,
        role: claims.role,
        iss: issuer,
        aud: audience,
        iat,
        nbf: iat,
        exp: iat + this.ttlSeconds,
      },
      this.secret,
      'HS256',
    );
  }

  /** The claims of a valid token; every failure is the same 401 so nothing leaks. */
  async verify(token: string): Promise<TokenClaims> {
    if (token.length > maxTokenLength) throw invalid();
    try {
      const payload = await verify(token, this.secret, {
        alg: 'HS256',
        iss: issuer,
        aud: audience,
      });
      const { sub, role, exp } = payload;
      // hono checks `exp` only when present: a token that never expires is refused here.
      if (typeof exp !== 'number') throw invalid();
      // A non-UUID subject would reach module inputs and fail there as a 400 or a 500.
      if (typeof sub !== 'string' || !uuidShape.test(sub)) throw invalid();
      if (role !== 'customer' && role !== 'admin') throw invalid();
      return { userId: sub, role };
    } catch {
      throw invalid();
    }
  }
}

const invalid = () =>
  new AppError('unauthorized', 'The access token is missing, invalid or expired.');
export const missingToken = invalid;
