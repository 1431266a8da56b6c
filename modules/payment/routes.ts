import { requireUser } from '../../src/context.ts';
import { type Api, idempotencyKey, json, pageOf, pageQuery } from '../../src/gateway/api.ts';
import { account, depositBody, ledgerEntry, paymentContract } from './contract.ts';

export function paymentRoutes(api: Api): void {
  const payment = api.client(paymentContract);

  api.route({
    method: 'get',
    path: '/accounts/me',
    tag: 'accounts',
    summary: 'My account',
    auth: 'user',
    responses: { 200: { description: "The caller's balance.", schema: account } },
    handle: async ({ ctx }) => json(await payment.getAccount({}, ctx)),
  });

  api.route({
    method: 'post',
    path: '/accounts/me/deposits',
    tag: 'accounts',
    summary: 'Deposit',
    auth: 'user',
    body: depositBody,
    headers: {
      'Idempotency-Key':
        'Repeat the request safely: the same key and body answer the first result again.',
    },
    responses: {
      201: { description: 'The balance after the deposit.', schema: account },
      400: { description: 'Invalid amount or Idempotency-Key.' },
      422: { description: 'The Idempotency-Key was used with another amount.' },
    },
    handle: async ({ ctx, body, header }) => {
      const key = idempotencyKey(header('idempotency-key'));
      return json(await payment.deposit({ ...body, idempotencyKey: key }, ctx), 201);
    },
  });

  api.route({
    method: 'get',
    path: '/accounts/me/transactions',
    tag: 'accounts',
    summary: 'My ledger',
    auth: 'user',
    query: pageQuery,
    responses: {
      200: { description: 'Ledger entries, newest first.', schema: pageOf(ledgerEntry) },
    },
    handle: async ({ ctx, query }) => {
      // Scoped per user: one user's ledger cursor is not a cursor for another user's ledger.
      const scope = `ledger:${requireUser(ctx).userId}`;
      return json(
        await api.cursors.page(scope, query, (limit, before) =>
          payment.listTransactions({ limit, before }, ctx),
        ),
      );
    },
  });
}
