import { defineConfig } from 'drizzle-kit';

/**
 * One module at a time: each module's tables live in its own Postgres schema and its
 * migrations in migrations/<module>/. `npm run db:generate` runs this for every module.
 */
const module = process.env.BUNSHOP_MODULE;
if (!module)
  throw new Error('set BUNSHOP_MODULE=<module>, or run `npm run db:generate` for all modules');

export default defineConfig({
  dialect: 'postgresql',
  schema: `./modules/${module}/schema.ts`,
  // The schema-drift test points this at a scratch copy.
  out: process.env.BUNSHOP_MIGRATIONS_OUT ?? `./migrations/${module}`,
  schemaFilter: [module],
});
