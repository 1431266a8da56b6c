import { migrations } from '../../migrations/user/index.ts';
import { asModule } from '../../src/context.ts';
import { isAppError } from '../../src/errors.ts';
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
  principal: (clients) => {
    const users = clients.client(userContract);
    return async (id, ctx) => {
      try {
        return { role: (await users.getUser({ id }, asModule(ctx, 'gateway'))).role };
      } catch (err) {
        if (isAppError(err) && err.code === 'not_found') return undefined;
        throw err;
      }
    };
  },
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
