import type { Clock } from '../clock.ts';
import type { CallContext, Role } from '../context.ts';

/** Who a token's subject is now: their current role, or undefined when the account is gone. */
export type PrincipalLookup = (
  userId: string,
  ctx: CallContext,
) => Promise<{ role: Role } | undefined>;

const ttlMs = 30_000;
const maxEntries = 10_000;

/**
 * Caches lookups briefly so a valid token costs no module call on most requests; a deleted
 * or demoted account is refused within the TTL.
 */
export function cachedPrincipals(lookup: PrincipalLookup, clock: Clock): PrincipalLookup {
  const cache = new Map<string, { role: Role; until: number }>();
  return async (userId, ctx) => {
    const hit = cache.get(userId);
    if (hit && hit.until > clock.now()) return { role: hit.role };
    const found = await lookup(userId, ctx);
    cache.delete(userId);
    if (!found) return undefined;
    // Map keeps insertion order: dropping the first key drops the oldest entry.
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
    cache.set(userId, { role: found.role, until: clock.now() + ttlMs });
    return found;
  };
}
