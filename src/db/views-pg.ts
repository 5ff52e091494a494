/**
 * What derives from the PostgreSQL mirror's rows after a sync: the report rollup tables, copied
 * from the daily views they stand for (src/db/views.ts ROLLUPS, the SQLite original). A rollup
 * whose view the migrations have not created is left as it is.
 */
import type pg from 'pg';
import { ROLLUPS } from './views.js';

export async function refreshPgDerivedViews(pool: pg.Pool): Promise<void> {
  const started = performance.now();
  const present = await pool.query<{ name: string }>(
    `SELECT c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('v', 'm', 'r') AND c.relname = ANY($1::text[])`,
    [ROLLUPS.map((r) => r.view)],
  );
  const views = new Set(present.rows.map((r) => r.name));
  const due = ROLLUPS.filter((r) => views.has(r.view));
  if (due.length === 0) return;
  const client = await pool.connect();
  try {
    // One transaction: readers see the old rollups or the new ones, never a mix.
    await client.query('BEGIN');
    for (const r of due) {
      const cols = r.columns.join(', ');
      await client.query(`DELETE FROM ${r.table}`);
      await client.query(`INSERT INTO ${r.table} (${cols}) SELECT ${cols} FROM ${r.view}`);
    }
    await client.query(
      'INSERT INTO rollup_state (id, refreshed_at, ms) VALUES (1, now(), $1) ON CONFLICT (id) DO UPDATE SET refreshed_at = excluded.refreshed_at, ms = excluded.ms',
      [Math.round(performance.now() - started)],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
