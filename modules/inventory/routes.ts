import { AppError } from '../../src/errors.ts';
import { type Api, json, pageOf, pageQuery } from '../../src/gateway/api.ts';
import { inventoryContract, item, itemFields, skuPattern } from './contract.ts';

export function inventoryRoutes(api: Api): void {
  const inventory = api.client(inventoryContract);

  api.route({
    method: 'get',
    path: '/inventory/items',
    tag: 'inventory',
    summary: 'List items',
    auth: 'public',
    query: pageQuery,
    responses: {
      200: { description: 'A page of items, ordered by sku.', schema: pageOf(item) },
      400: { description: 'Bad limit or cursor.' },
    },
    handle: async ({ ctx, query }) => {
      return json(
        await api.cursors.page('items', query, (limit, after) =>
          inventory.listItems({ limit, after }, ctx),
        ),
      );
    },
  });

  api.route({
    method: 'get',
    path: '/inventory/items/:sku',
    tag: 'inventory',
    summary: 'An item',
    auth: 'public',
    responses: {
      200: { description: 'The item.', schema: item },
      404: { description: 'No such item.' },
    },
    handle: async ({ ctx, param }) => {
      const sku = param('sku');
      if (!skuPattern.test(sku)) throw new AppError('not_found', `No item ${sku.slice(0, 64)}.`);
      return json(await inventory.getItem({ sku }, ctx));
    },
  });

  api.route({
    method: 'put',
    path: '/inventory/items/:sku',
    tag: 'inventory',
    summary: 'Create or replace an item',
    auth: 'admin',
    body: itemFields,
    responses: {
      200: { description: 'Replaced.', schema: item },
      201: { description: 'Created.', schema: item, headers: ['Location'] },
      400: { description: 'Invalid sku or fields.' },
      403: { description: 'Not an admin.' },
    },
    handle: async ({ ctx, param, body }) => {
      const sku = param('sku');
      if (!skuPattern.test(sku)) {
        throw new AppError('validation', 'The sku is not valid.', {
          errors: [{ path: 'sku', message: 'must match ^[A-Za-z0-9._-]{1,64}$' }],
        });
      }
      const result = await inventory.putItem({ sku, ...body }, ctx);
      return result.created
        ? json(result.item, 201, { location: `/inventory/items/${sku}` })
        : json(result.item, 200);
    },
  });
}
