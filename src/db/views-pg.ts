/**
 * The PostgreSQL twin of views.ts: after a sync, rebuild `people_custom_fields_wide` when the set
 * of custom-field names changed, and rewrite the rollup tables from their views
 * (migrations-pg/0003_views.sql). The PostgreSQL Store's refreshDerivedViews() calls
 * refreshPgDerivedViews with its pool.
 *
 * pg_views keeps a deparsed, reformatted definition, not the text it was created from, so the
 * SQL the view was built from is compared through a hash kept in the view's COMMENT.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { ROLLUPS, WIDE_VIEW, wideViewSql } from './wide-view.js';

// One refresh at a time per database (two workers' syncs may end together): two concurrent
// rewrites would each delete only the rows their statement's snapshot saw and leave the other's
// rows doubled, and two rebuilds of the wide view would race on DROP/CREATE. Any constant would do.
const REFRESH_LOCK = 0x1ee100_0003;

const COMMENT_PREFIX = 'leeloo-sync: one column per custom-field name, rebuilt when the names change; sql sha256 ';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [REFRESH_LOCK]);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

async function currentWideSql(q: pg.Pool | pg.PoolClient): Promise<string> {
  const r = await q.query<{ name: string }>('SELECT DISTINCT name FROM custom_fields');
  return wideViewSql(r.rows.map((row) => row.name));
}

async function storedHash(q: pg.Pool | pg.PoolClient): Promise<string | undefined> {
  const r = await q.query<{ comment: string | null }>("SELECT obj_description(to_regclass($1), 'pg_class') AS comment", [`"${WIDE_VIEW}"`]);
  const comment = r.rows[0]?.comment ?? null;
  return comment?.startsWith(COMMENT_PREFIX) ? comment.slice(COMMENT_PREFIX.length) : undefined;
}

/**
 * Rebuilds the wide view when the set of custom-field names differs from the one it was built
 * from (one DISTINCT over custom_fields_name_idx when not); true when it was rebuilt. The drop and
 * the create are one transaction: readers see the old view or the new one.
 */
export async function refreshPgWideView(pool: pg.Pool): Promise<boolean> {
  if ((await storedHash(pool)) === sha256(await currentWideSql(pool))) return false;
  return inTransaction(pool, async (c) => {
    // Again under the lock: another refresh may have rebuilt it meanwhile.
    const next = await currentWideSql(c);
    const hash = sha256(next);
    if ((await storedHash(c)) === hash) return false;
    await c.query(`DROP VIEW IF EXISTS "${WIDE_VIEW}"`);
    await c.query(next);
    await c.query(`COMMENT ON VIEW "${WIDE_VIEW}" IS '${COMMENT_PREFIX}${hash}'`);
    return true;
  });
}

/**
 * Rewrites the rollup tables from their views, in one transaction; returns the ms it took.
 * Unlike SQLite (views.ts), the views are read inside it, by `INSERT … SELECT`: PostgreSQL's
 * readers never wait for a writer (they see the old rollups until the commit, never a mix), the
 * sync's writes to the base tables never wait for these reads, and no rows travel through
 * JavaScript (where a `date` could meet a time zone).
 */
export async function refreshPgRollups(pool: pg.Pool): Promise<number> {
  const started = performance.now();
  await inTransaction(pool, async (c) => {
    for (const r of ROLLUPS) {
      const cols = r.columns.join(', ');
      // DELETE, not TRUNCATE: TRUNCATE's exclusive lock would make the reports page wait.
      await c.query(`DELETE FROM ${r.table}`);
      await c.query(`INSERT INTO ${r.table} (${cols}) SELECT ${cols} FROM ${r.view}`);
    }
    const ms = Math.round(performance.now() - started);
    await c.query(
      'INSERT INTO rollup_state (id, refreshed_at, ms) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET refreshed_at = excluded.refreshed_at, ms = excluded.ms',
      [new Date().toISOString(), ms],
    );
  });
  return Math.round(performance.now() - started);
}

/** What PostgreSQL's Store.refreshDerivedViews() does: the wide view when its names changed, then the rollups. */
export async function refreshPgDerivedViews(pool: pg.Pool): Promise<void> {
  await refreshPgWideView(pool);
  await refreshPgRollups(pool);
}
