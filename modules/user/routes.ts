import * as v from 'valibot';
import { AppError } from '../../src/errors.ts';
import type { Api } from '../../src/gateway/api.ts';
import { json } from '../../src/gateway/api.ts';
import { isUuid } from '../../src/validation.ts';
import { credentials, registration, user, userContract } from './contract.ts';

const token = v.object({
  accessToken: v.string(),
  tokenType: v.literal('Bearer'),
  expiresIn: v.number(),
});

export function userRoutes(api: Api): void {
  const users = api.client(userContract);

  api.route({
    method: 'post',
    path: '/users',
    tag: 'users',
    summary: 'Register',
    auth: 'public',
    body: registration,
    responses: {
      201: {
        description: 'The new user; `Location` names it.',
        schema: user,
        headers: ['Location'],
      },
      400: { description: 'Invalid fields.' },
      409: { description: 'The email is taken (compared case-insensitively).' },
    },
    handle: async ({ body, ctx }) => {
      const created = await users.register(body, ctx);
      return json(created, 201, { location: `/users/${created.id}` });
    },
  });

  api.route({
    method: 'post',
    path: '/auth/token',
    tag: 'users',
    summary: 'Sign in',
    auth: 'public',
    body: credentials,
    description:
      'Failed sign-ins are limited per email and per client address; while limited, the answer is 429.',
    responses: {
      200: { description: 'An access token.', schema: token },
      401: { description: 'Wrong email or password.' },
      429: { description: 'Too many failed sign-ins.', headers: ['Retry-After'] },
    },
    handle: async ({ body, ctx, clientAddress }) => {
      // Reserve before hashing so concurrent guesses cannot overshoot the limit.
      const retryAfter = api.signIn.attempt(body.email, clientAddress);
      if (retryAfter > 0) {
        throw new AppError('rate_limited', 'Too many failed sign-ins; try again later.', {
          retryAfter,
        });
      }
      let failed = false;
      try {
        const signedIn = await users.authenticate(body, ctx);
        const accessToken = api.tokens.issue({ userId: signedIn.id, role: signedIn.role });
        return json({ accessToken, tokenType: 'Bearer', expiresIn: api.tokens.ttlSeconds });
      } catch (err) {
        failed = (err as { code?: unknown }).code === 'unauthorized';
        throw err;
      } finally {
        // Only wrong credentials count; successes and outages give the slot back.
        if (!failed) api.signIn.release(body.email, clientAddress);
      }
    },
  });

  api.route({
    method: 'get',
    path: '/users/me',
    tag: 'users',
    summary: 'The signed-in user',
    auth: 'user',
    responses: {
      200: { description: 'The caller.', schema: user },
      401: { description: 'Not signed in.' },
    },
    handle: async ({ ctx }) => {
      const caller = ctx.caller.kind === 'user' ? ctx.caller.userId : '';
      try {
        return json(await users.getUser({ id: caller }, ctx));
      } catch (err) {
        // A valid token for a user who no longer exists is as good as no token.
        if (err instanceof AppError && err.code === 'not_found') {
          throw new AppError('unauthorized', 'The access token is missing, invalid or expired.');
        }
        throw err;
      }
    },
  });

  api.route({
    method: 'get',
    path: '/users/:id',
    tag: 'users',
    summary: 'A user',
    auth: 'user',
    description: 'Visible to the user themself and to admins; anyone else gets 404.',
    responses: {
      200: { description: 'The user.', schema: user },
      404: { description: 'Absent or not visible.' },
    },
    handle: async ({ ctx, param }) => {
      // UUIDs are case-insensitive (RFC 9562); ids are stored lower-case.
      const id = param('id').toLowerCase();
      if (!isUuid(id)) throw new AppError('not_found', 'No such user.');
      return json(await users.getUser({ id }, ctx));
    },
  });
}
