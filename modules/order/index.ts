import { migrations } from '../../migrations/order/index.ts';
import { defineModule } from '../../src/module.ts';
import { SagaEngine } from '../../src/saga/engine.ts';
import { inventoryContract } from '../inventory/contract.ts';
import { paymentContract } from '../payment/contract.ts';
import { orderContract } from './contract.ts';
import { orderRoutes } from './routes.ts';
import { placeOrderSaga } from './saga.ts';
import { outbox, sagas } from './schema.ts';
import { createOrderService } from './service.ts';

export const orderModule = defineModule({
  contract: orderContract,
  migrations,
  outbox,
  routes: orderRoutes,
  create(rt) {
    const saga = new SagaEngine({
      db: rt.db,
      table: sagas,
      definition: placeOrderSaga({
        inventory: rt.client(inventoryContract),
        payment: rt.client(paymentContract),
        now: () => new Date(rt.clock.now()),
        eventsWritten: rt.eventsWritten,
      }),
      clock: rt.clock,
      log: rt.log,
      metrics: rt.metrics,
      owner: rt.nodeId,
      // Inventory and payment on this order database: their commits flush the saga's transitions.
      lazyTransitions:
        rt.sharesDatabaseWith(inventoryContract) && rt.sharesDatabaseWith(paymentContract),
      leaseMs: rt.settings.sagaLeaseMs,
      // Look for orphaned sagas several times per lease, so a takeover follows soon after expiry.
      recoverEveryMs: Math.max(1_000, Math.floor(rt.settings.sagaLeaseMs / 3)),
    });
    return {
      service: createOrderService(rt, saga),
      start: () => saga.start(),
      stop: () => saga.stop(),
    };
  },
});
