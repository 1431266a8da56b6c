import { eq, sql } from 'drizzle-orm';
import { type CallContext, isAdmin, requireUser } from '../../src/context.ts';
import type { ServiceOf } from '../../src/contract.ts';
import { statement } from '../../src/db/statement.ts';
import { AppError } from '../../src/errors.ts';
import { Outbox } from '../../src/events/outbox.ts';
import type { ModuleRuntime } from '../../src/module.ts';
import { type User, userContract } from './contract.ts';
import { burnDummyVerify, hashPassword, verifyPassword } from './passwords.ts';
import { outbox, users } from './schema.ts';

type Row = typeof users.$inferSelect;

type Viewed = Pick<Row, 'id' | 'name' | 'email' | 'role' | 'createdAt'>;

const view = (row: Viewed): User => ({
  id: row.id,
  name: row.name,
  email: row.email,
  role: row.role,
  createdAt: row.createdAt.toISOString(),
});

const wrongCredentials = () => new AppError('unauthorized', 'The email or password is wrong.');

export function createUserService(rt: ModuleRuntime): ServiceOf<typeof userContract> & {
  ensureAdmin(email: string, password: string): Promise<void>;
} {
  const events = new Outbox(outbox);
  // Read on every authenticated request (principal lookup) and by GET /users/me: built once.
  // The view's columns only: not the password hash, which no reader of it needs.
  const byId = statement<{ id: string }, Viewed[]>((on) =>
    on
      .select({
        id: users.id,
        name: users.name,
        email: users.email,
        role: users.role,
        createdAt: users.createdAt,
      })
      .from(users)
      .where(eq(users.id, sql.placeholder('id')))
      .limit(1),
  );

  const findByEmail = async (email: string) =>
    (await rt.db.select().from(users).where(eq(users.emailKey, email.toLowerCase())).limit(1))[0];

  return {
    async register(input) {
      const passwordHash = await hashPassword(input.password);
      const created = await rt.transaction(async (tx) => {
        const [row] = await tx
          .insert(users)
          .values({
            id: Bun.randomUUIDv7(),
            name: input.name,
            email: input.email,
            emailKey: input.email.toLowerCase(),
            passwordHash,
            role: 'customer',
            createdAt: new Date(rt.clock.now()),
          })
          .onConflictDoNothing({ target: users.emailKey })
          .returning();
        if (!row) throw new AppError('conflict', 'An account with this email already exists.');
        await events.publish(tx, userContract.events.created, {
          userId: row.id,
          createdAt: row.createdAt.toISOString(),
        });
        return row;
      });
      return view(created);
    },

    async authenticate(input) {
      const row = await findByEmail(input.email);
      if (!row) {
        await burnDummyVerify(input.password);
        throw wrongCredentials();
      }
      if (!(await verifyPassword(input.password, row.passwordHash))) throw wrongCredentials();
      return { id: row.id, role: row.role };
    },

    async getUser(input, ctx: CallContext) {
      if (ctx.caller.kind !== 'system' && requireUser(ctx).userId !== input.id && !isAdmin(ctx)) {
        throw new AppError('not_found', 'No such user.');
      }
      const [row] = await byId(rt.db, { id: input.id });
      if (!row) throw new AppError('not_found', 'No such user.');
      return view(row);
    },

    /** Makes sure an admin with this email and password exists (start-up, from ADMIN_*). */
    async ensureAdmin(email, password) {
      const passwordHash = await hashPassword(password);
      const existing = await findByEmail(email);
      if (existing) {
        await rt.db
          .update(users)
          .set({ role: 'admin', passwordHash })
          .where(eq(users.id, existing.id));
        return;
      }
      await rt.transaction(async (tx) => {
        const [row] = await tx
          .insert(users)
          .values({
            id: Bun.randomUUIDv7(),
            name: 'Administrator',
            email,
            emailKey: email.toLowerCase(),
            passwordHash,
            role: 'admin',
            createdAt: new Date(rt.clock.now()),
          })
          .onConflictDoNothing({ target: users.emailKey })
          .returning();
        if (row) {
          await events.publish(tx, userContract.events.created, {
            userId: row.id,
            createdAt: row.createdAt.toISOString(),
          });
        }
      });
    },
  };
}
