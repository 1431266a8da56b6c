/**
 * An OTLP/HTTP receiver that counts spans and keeps nothing: the cheapest honest collector,
 * run as its own process so the bench measures bunshop's exporting, not the receiver.
 * Usage: bun bench/support/otlp-sink.ts  (prints "listening <port>", then span counts on SIGTERM)
 */
let spans = 0;
const server = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(request) {
    const body = (await request.json()) as {
      resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[];
    };
    for (const rs of body.resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? []) spans += ss.spans?.length ?? 0;
    return Response.json({});
  },
});
console.log(`listening ${server.port}`);
process.on('SIGTERM', () => {
  console.error(`otlp sink received ${spans} spans`);
  process.exit(0);
});
