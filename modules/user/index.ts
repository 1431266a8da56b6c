import { migrations } from '../../migrations/user/index.ts';
import { defineModule } from '../../src/module.ts';
import { userContract } from './contract.ts';
import { userRoutes } from './routes.ts';
import { outbox } from './schema.ts';
import { createUserService } from './service.ts';

export const userModule = defineModule({
  contract: userContract,
  migrations,
  outbox,
  routes: userRoutes,
  create(rt) {
    const service = createUserService(rt);
    return {
      service,
      async start() {
        const { adminEmail, adminPassword } = rt.settings;
        if (adminEmail && adminPassword) {
          await service.ensureAdmin(adminEmail, adminPassword);
          rt.log.info('admin account ensured', { email: adminEmail });
        }
      },
    };
  },
});
