import { defineConfig } from 'drizzle-kit';

// The PostgreSQL twin of drizzle.config.ts: `npm run db:generate` writes both dialects'
// migrations (migrations/ and migrations-pg/), from schema.ts and schema-pg.ts kept in lockstep.
// They are applied by src/db/pg-migrate.ts, which keeps the journal table in the mirror's own
// schema (as configured here), not drizzle's separate `drizzle` schema.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema-pg.ts',
  out: './migrations-pg',
  migrations: { table: '__drizzle_migrations', schema: 'public' },
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/leeloo' },
});
