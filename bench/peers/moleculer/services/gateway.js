import { jwtVerify } from 'jose';
import ApiGateway from 'moleculer-web';
import { unauthorized } from '../lib/errors.js';

const titles = {
  validation: 'Invalid request',
  unauthorized: 'Authentication required',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  conflict: 'Conflict',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  unprocessable: 'Unprocessable request',
  rate_limited: 'Too many requests',
  internal: 'Internal error',
  unavailable: 'Service unavailable',
};
const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const bearer = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i;
const maxTokenLength = 4096;
/** The actions whose routes need a signed-in caller; the others are public. */
const signedIn = new Set(['user.me', 'order.place']);

/** bunshop's error kind for a Moleculer / moleculer-web error. */
function kindOf(err) {
  if (err?.type && titles[err.type]) return err.type;
  if (err?.name === 'ValidationError' || err?.code === 400) return 'validation';
  switch (err?.code) {
    case 401:
      return 'unauthorized';
    case 404:
      return 'not_found';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 503:
      return 'unavailable';
    default:
      return 'internal';
  }
}

const statusOf = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

/** An RFC 9457 problem document, shaped as bunshop's src/gateway/problem.ts. */
function sendProblem(_req, res, err) {
  const kind = kindOf(err);
  const status = statusOf[kind];
  const body = {
    type: `urn:bunshop:problem:${kind.replaceAll('_', '-')}`,
    title: titles[kind],
    status,
    // No internal message (SQL, stack) leaks in a 5xx.
    detail: status >= 500 && kind !== 'unavailable' ? 'An internal error occurred.' : err.message,
  };
  if (err?.data?.reason) body.reason = err.data.reason;
  if (kind === 'validation') {
    body.errors = Array.isArray(err.data)
      ? err.data.map((e) => ({ path: String(e.field ?? ''), message: String(e.message) }))
      : [{ path: '', message: err.message }];
  }
  const headers = {
    'content-type': 'application/problem+json',
    'cache-control': 'no-store',
  };
  if (kind === 'unauthorized') headers['www-authenticate'] = 'Bearer';
  if (status === 429 || status === 503) headers['retry-after'] = '1';
  res.writeHead(status, headers);
  res.end(JSON.stringify(body));
}

/**
 * moleculer-web ApiGateway serving the four bench routes. With `waitForServices` (the
 * multi-process mode) the HTTP server starts listening only once the other services are reachable
 * over NATS, so /health/live answering means the peer is ready. In one process every service is
 * local and registered before the server's first I/O turn, and Moleculer's dependency wait would
 * only add its 1 s polling interval to the start-up time.
 */
export default function gateway({ waitForServices = false } = {}) {
  const secret = process.env.JWT_SECRET ?? '';
  if (secret.length < 32) throw new Error('JWT_SECRET must be at least 32 characters');
  const key = new TextEncoder().encode(secret);

  return {
    name: 'gateway',
    mixins: [ApiGateway],
    dependencies: waitForServices ? ['user', 'inventory', 'payment', 'order'] : [],
    settings: {
      port: Number(process.env.PORT ?? 3000),
      ip: process.env.HOST ?? '0.0.0.0',
      // One route: moleculer-web keys routes by path, so a second '/' route would replace the
      // first. The token is checked for the aliases in `signedIn` (see authenticate).
      routes: [
        {
          path: '/',
          mappingPolicy: 'restrict',
          authentication: true,
          bodyParsers: { json: { limit: '64kb' }, urlencoded: false },
          aliases: {
            'GET /health/live': 'gateway.live',
            'GET /inventory/items/:sku': 'inventory.get',
            'GET /users/me': 'user.me',
            'POST /orders': 'order.place',
          },
        },
      ],
      onError: sendProblem,
    },
    actions: {
      live: {
        handler() {
          return { status: 'ok' };
        },
      },
    },
    methods: {
      /** Verifies the HS256 access token as bunshop does (alg pinned, iss, aud, exp required). */
      async authenticate(_ctx, _route, req, _res, alias) {
        if (!signedIn.has(alias.action)) return null;
        const match = bearer.exec(req.headers.authorization ?? '');
        const token = match?.[1];
        if (!token || token.length > maxTokenLength) throw unauthorized();
        let payload;
        try {
          ({ payload } = await jwtVerify(token, key, {
            algorithms: ['HS256'],
            issuer: 'bunshop',
            audience: 'bunshop-api',
            requiredClaims: ['exp'],
          }));
        } catch {
          throw unauthorized();
        }
        const { sub, role } = payload;
        if (typeof sub !== 'string' || !uuidShape.test(sub)) throw unauthorized();
        if (role !== 'customer' && role !== 'admin') throw unauthorized();
        return { id: sub, role };
      },
    },
  };
}
