/** A span as an OTLP/HTTP JSON export carries it, flattened with its node's resource. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  links: { traceId: string; spanId: string }[];
  attributes: Record<string, unknown>;
  service: string;
  node: string;
}

/**
 * A real OTLP/HTTP receiver (JSON encoding) on a free port: bunshop nodes export to it
 * through OTEL_EXPORTER_OTLP_ENDPOINT exactly as they would to a collector, Jaeger or Tempo.
 */
export function startOtlpReceiver() {
  const spans: ReceivedSpan[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      if (new URL(request.url).pathname !== '/v1/traces' || request.method !== 'POST')
        return new Response('not found', { status: 404 });
      const body = (await request.json()) as { resourceSpans?: ResourceSpans[] };
      for (const rs of body.resourceSpans ?? []) {
        const resource = attributesOf(rs.resource?.attributes);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId || undefined,
              name: s.name,
              kind: s.kind,
              links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
              attributes: attributesOf(s.attributes),
              service: String(resource['service.name']),
              node: String(resource['bunshop.node.id']),
            });
          }
        }
      }
      return Response.json({});
    },
  });
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    spans,
    stop: () => server.stop(true),
    /** Waits until `ok` holds for the spans received so far, or the time runs out. */
    async until(ok: (spans: ReceivedSpan[]) => boolean, ms = 20_000): Promise<ReceivedSpan[]> {
      const deadline = Date.now() + ms;
      while (!ok(spans) && Date.now() < deadline) await Bun.sleep(100);
      return spans;
    },
  };
}

interface ResourceSpans {
  resource?: { attributes?: KeyValue[] };
  scopeSpans?: {
    spans?: {
      traceId: string;
      spanId: string;
      parentSpanId?: string;
      name: string;
      kind: number;
      attributes?: KeyValue[];
      links?: { traceId: string; spanId: string }[];
    }[];
  }[];
}

interface KeyValue {
  key: string;
  value: Record<string, unknown>;
}

function attributesOf(list: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) out[key] = Object.values(value)[0];
  return out;
}
