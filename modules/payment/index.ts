import { migrations } from '../../migrations/payment/index.ts';
import { defineModule } from '../../src/module.ts';
import { paymentContract } from './contract.ts';
import { paymentRoutes } from './routes.ts';
import { inbox } from './schema.ts';
import { createPaymentService } from './service.ts';
import { paymentSubscriptions } from './subscriptions.ts';

export const paymentModule = defineModule({
  contract: paymentContract,
  migrations,
  inbox,
  routes: paymentRoutes,
  create: (rt) => ({ service: createPaymentService(rt), subscriptions: paymentSubscriptions }),
});
