import { AppError } from '../../src/errors.ts';
import { type Api, idempotencyKey, json, pageOf, pageQuery } from '../../src/gateway/api.ts';
import { isUuid } from '../../src/validation.ts';
import { order, orderBody, orderContract } from './contract.ts';

export function orderRoutes(api: Api): void {
  const orders = api.client(orderContract);

  api.route({
    method: 'post',
    path: '/orders',
    tag: 'orders',
    summary: 'Place an order',
    auth: 'user',
    body: orderBody,
    description:
      'Runs the order saga (reserve stock, charge, confirm) and answers 201 once the order is CONFIRMED or REJECTED, or 202 with the PENDING order when it has not finished within the request deadline.',
    headers: {
      'Idempotency-Key':
        'Repeat the request safely: the same key and body answer the first order again.',
    },
    responses: {
      201: {
        description: 'The order, CONFIRMED or REJECTED.',
        schema: order,
        headers: ['Location'],
      },
      202: {
        description: 'The order, still PENDING; poll its Location.',
        schema: order,
        headers: ['Location'],
      },
      400: { description: 'Invalid lines or Idempotency-Key.' },
      409: { description: 'The first request with this Idempotency-Key is still being processed.' },
      422: {
        description:
          'The Idempotency-Key was used with another body, or the total is over 2^53 - 1 cents.',
      },
      429: {
        description: "Too many of the caller's orders are still pending.",
        headers: ['Retry-After'],
      },
    },
    handle: async ({ ctx, body, header }) => {
      const key = idempotencyKey(header('idempotency-key'));
      const placed = await orders.placeOrder({ items: body.items, idempotencyKey: key }, ctx);
      return json(placed, placed.status === 'PENDING' ? 202 : 201, {
        location: `/orders/${placed.id}`,
      });
    },
  });

  api.route({
    method: 'get',
    path: '/orders',
    tag: 'orders',
    summary: 'My orders',
    auth: 'user',
    query: pageQuery,
    responses: {
      200: { description: "The caller's orders, newest first.", schema: pageOf(order) },
    },
    handle: async ({ ctx, query }) => {
      return json(
        await api.cursors.page('orders', query, (limit, before) =>
          orders.listOrders({ limit, before }, ctx),
        ),
      );
    },
  });

  api.route({
    method: 'get',
    path: '/orders/:id',
    tag: 'orders',
    summary: 'An order',
    auth: 'user',
    description: 'Visible to its owner and to admins; anyone else gets 404.',
    responses: {
      200: { description: 'The order.', schema: order },
      404: { description: 'Absent or not visible.' },
    },
    handle: async ({ ctx, param }) => {
      // UUIDs are case-insensitive (RFC 9562); ids are stored lower-case.
      const id = param('id').toLowerCase();
      if (!isUuid(id)) throw new AppError('not_found', 'No such order.');
      return json(await orders.getOrder({ id }, ctx));
    },
  });
}
