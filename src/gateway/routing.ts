import type { Context } from 'hono';
import type { AnyRoute } from './api.ts';

type HonoHandler = (c: Context) => Promise<Response>;

/** A route template as a pattern over paths: exact, as Hono matches (`/orders/` is another path). */
function patternOf(template: string): RegExp {
  const literal = template.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); // `/docs/scalar.js`: a dot
  return new RegExp(`^${literal.replace(/:[A-Za-z]+/g, '[^/]+')}$`);
}

/**
 * The routes as Hono registers them: method, path, handler. Hono's RegExpRouter refuses a static
 * path beside a parameter at the same place (`/users/me` and `/users/:id`), and the trie Hono
 * falls back to for every route costs about 0.6 µs more per request. So a static route that a
 * parameter route of the same method also matches is answered by that route's handler, which
 * looks for it first: the static route always wins, whatever the order of registration. A route
 * set this does not untangle (`/users/me/orders` beside `/users/:id`) stops the node at start-up,
 * so every API test fails on it rather than one request being slower.
 */
export function matchable(
  routes: readonly AnyRoute[],
  wrap: (def: AnyRoute) => HonoHandler,
): [method: string, path: string, handler: HonoHandler][] {
  const dynamic = routes.filter((r) => r.path.includes('/:'));
  const statics = new Map<AnyRoute, Map<string, HonoHandler>>();
  const folded = new Set<AnyRoute>();
  for (const r of routes) {
    if (r.path.includes('/:')) continue;
    const host = dynamic.find((d) => d.method === r.method && patternOf(d.path).test(r.path));
    if (!host) continue;
    const byPath = statics.get(host) ?? new Map<string, HonoHandler>();
    byPath.set(r.path, wrap(r));
    statics.set(host, byPath);
    folded.add(r);
  }
  return routes
    .filter((r) => !folded.has(r))
    .map((r) => {
      const handler = wrap(r);
      const byPath = statics.get(r);
      return [
        r.method.toUpperCase(),
        r.path,
        byPath ? (c: Context) => (byPath.get(c.req.path) ?? handler)(c) : handler,
      ];
    });
}

/** For a path no route serves with this method: the template that matches it and its methods. */
export function allowedMethods(routes: readonly AnyRoute[]) {
  const byTemplate = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  for (const r of routes) {
    const entry = byTemplate.get(r.path) ?? { pattern: patternOf(r.path), methods: new Set() };
    entry.methods.add(r.method.toUpperCase());
    if (r.method === 'get') entry.methods.add('HEAD');
    byTemplate.set(r.path, entry);
  }
  return (path: string) => {
    for (const [template, { pattern, methods }] of byTemplate) {
      if (pattern.test(path)) return { template, allow: [...methods].join(', ') };
    }
    return undefined;
  };
}
