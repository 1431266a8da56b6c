/**
 * The W0 floor: bare `Bun.serve`, no framework, no database. It answers `GET /health/live`
 * as bunshop does and 404 to anything else, so W0 measures bunshop's HTTP stack against
 * the runtime alone.
 *
 *   PORT=3101 node_modules/.bin/bun bench/floors/bun-serve.ts
 */
export {}; // a module: its top-level names must not clash with other scripts under tsc

const live = JSON.stringify({ status: 'ok' });

const server = Bun.serve({
  port: Number(process.env.PORT ?? 3000),
  routes: {
    '/health/live': {
      GET: () => new Response(live, { headers: { 'content-type': 'application/json' } }),
    },
  },
  fetch: () =>
    new Response(
      JSON.stringify({
        type: 'urn:bunshop:problem:not-found',
        title: 'Not found',
        status: 404,
        detail: 'No resource at this address.',
      }),
      { status: 404, headers: { 'content-type': 'application/problem+json' } },
    ),
});

console.log(`listening ${server.port}`);
