import { migrations } from '../../migrations/inventory/index.ts';
import { defineModule } from '../../src/module.ts';
import { inventoryContract } from './contract.ts';
import { inventoryRoutes } from './routes.ts';
import { createInventoryService } from './service.ts';

export const inventoryModule = defineModule({
  contract: inventoryContract,
  migrations,
  routes: inventoryRoutes,
  create: (rt) => ({ service: createInventoryService(rt) }),
});
