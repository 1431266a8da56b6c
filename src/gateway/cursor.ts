import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors.ts';

/**
 * Opaque, signed page cursors: a client can hand back only what the server issued.
 * The key is derived from the token secret, so every node of a deployment accepts them.
 */
export class CursorCodec {
  readonly #key: Buffer;

  constructor(secret: string) {
    this.#key = createHmac('sha256', secret).update('bunshop/cursor/v1').digest();
  }

  encode(scope: string, position: string): string {
    const body = Buffer.from(JSON.stringify([scope, position])).toString('base64url');
    return `${body}.${this.#mac(body)}`;
  }

  /** The position inside a cursor for this scope, or 400. */
  decode(scope: string, cursor: string): string {
    // Exactly `body.mac`: trailing segments would make a cursor the server never issued pass.
    const parts = cursor.length <= 512 ? cursor.split('.') : [];
    const [body, mac] = parts;
    if (parts.length === 2 && body && mac && this.#verify(body, mac)) {
      try {
        const value: unknown = JSON.parse(Buffer.from(body, 'base64url').toString());
        if (Array.isArray(value) && value[0] === scope && typeof value[1] === 'string')
          return value[1];
      } catch {}
    }
    throw new AppError('validation', 'The cursor is not one this server issued for this list.', {
      errors: [{ path: 'cursor', message: 'unknown cursor' }],
    });
  }

  /**
   * One page of a list as API.md shapes it: the cursor decoded to the list's position,
   * the list asked for `limit` items after it, and the next position signed again.
   */
  async page<T>(
    scope: string,
    query: { limit: number; cursor?: string },
    list: (
      limit: number,
      position: string | undefined,
    ) => Promise<{ items: T[]; next: string | null }>,
  ): Promise<{ items: T[]; nextCursor: string | null }> {
    const position = query.cursor === undefined ? undefined : this.decode(scope, query.cursor);
    const page = await list(query.limit, position);
    return {
      items: page.items,
      nextCursor: page.next === null ? null : this.encode(scope, page.next),
    };
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest('base64url').slice(0, 22);
  }

  #verify(body: string, mac: string): boolean {
    const expected = Buffer.from(this.#mac(body));
    const given = Buffer.from(mac);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
