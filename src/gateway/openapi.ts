import { toJsonSchema } from '@valibot/to-json-schema';
import type { Schema } from '../contract.ts';
import type { AnyRoute } from './api.ts';

const problem = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    reason: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

function schemaOf(schema: Schema, typeMode: 'input' | 'output') {
  const { $schema: _, ...rest } = toJsonSchema(schema, {
    target: 'draft-2020-12',
    typeMode,
    errorMode: 'ignore',
    // Checks from src/validation.ts say which JSON Schema keywords they enforce.
    overrideAction: ({ valibotAction, jsonSchema }) =>
      'jsonSchema' in valibotAction
        ? { ...jsonSchema, ...(valibotAction.jsonSchema as Record<string, unknown>) }
        : undefined,
  });
  return rest;
}

type Responses = AnyRoute['responses'];

/** The answers the gateway itself gives a route, before its handler runs; the route may refine them. */
function gatewayResponses(r: AnyRoute): Responses {
  const out: Responses = {};
  if (r.body || r.query) out[400] = { description: 'Invalid request.' };
  if (r.auth !== 'public') {
    out[401] = {
      description: 'Missing, invalid or expired access token.',
      headers: ['WWW-Authenticate'],
    };
  }
  if (r.auth === 'admin') out[403] = { description: 'Not an admin.' };
  if (r.body) {
    out[413] = { description: 'The body is over 64 KiB.' };
    out[415] = { description: 'The body is not application/json.' };
  }
  return out;
}

/** The route's responses over the gateway's, keeping the headers both declare. */
function withGatewayResponses(r: AnyRoute): Responses {
  const merged = gatewayResponses(r);
  for (const [status, res] of Object.entries(r.responses)) {
    const headers = [...new Set([...(merged[+status]?.headers ?? []), ...(res.headers ?? [])])];
    merged[+status] = { ...res, ...(headers.length ? { headers } : {}) };
  }
  return merged;
}

/** `get` + `/docs/scalar.js` -> `getDocsScalarJs`: letters and digits only, unique per route. */
const operationId = (method: string, path: string) =>
  method +
  path
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');

const openApiPath = (path: string) => path.replace(/:([A-Za-z]+)/g, '{$1}');

/** The OpenAPI 3.1 document, generated from the same valibot schemas that validate requests. */
export function openApiDocument(routes: readonly AnyRoute[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const parameters: unknown[] = [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    if (r.query) {
      const q = schemaOf(r.query, 'input') as {
        properties?: Record<string, unknown>;
        required?: string[];
      };
      for (const [name, schema] of Object.entries(q.properties ?? {})) {
        parameters.push({
          name,
          in: 'query',
          required: q.required?.includes(name) ?? false,
          schema,
        });
      }
    }
    for (const [name, description] of Object.entries(r.headers ?? {})) {
      parameters.push({
        name,
        in: 'header',
        required: false,
        description,
        schema: { type: 'string' },
      });
    }
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(withGatewayResponses(r))) {
      const isError = Number(status) >= 400;
      responses[status] = {
        description: res.description,
        ...(res.headers
          ? {
              headers: Object.fromEntries(
                res.headers.map((h) => [h, { schema: { type: 'string' } }]),
              ),
            }
          : {}),
        ...(res.schema || isError
          ? {
              content: {
                [isError ? 'application/problem+json' : 'application/json']: {
                  schema: res.schema
                    ? schemaOf(res.schema, 'output')
                    : { $ref: '#/components/schemas/Problem' },
                },
              },
            }
          : {}),
      };
    }
    const operation = {
      tags: [r.tag],
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      operationId: operationId(r.method, r.path),
      ...(parameters.length ? { parameters } : {}),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schemaOf(r.body, 'input') } },
            },
          }
        : {}),
      ...(r.auth !== 'public' ? { security: [{ bearer: [] }] } : {}),
      responses,
    };
    paths[openApiPath(r.path)] = { ...paths[openApiPath(r.path)], [r.method]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'bunshop',
      version,
      description:
        'Commerce backend: users, inventory, payment accounts and orders. Errors are RFC 9457 problem documents.',
    },
    paths,
    components: {
      schemas: { Problem: problem },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}
