export { isUniqueViolation } from './errors.ts';
export { type Migration, migrateModule } from './migrate.ts';
export { openPostgres, redactUrl } from './postgres.ts';
export type { Database, Db, Queryable, Tx } from './types.ts';
