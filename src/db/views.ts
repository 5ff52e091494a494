/**
 * What is derived from the mirror's data after a sync: the generated view
 * `people_custom_fields_wide` (one column per distinct custom-field name) and the rollup tables
 * (copies of the daily views for the reports page). The other views are static and come with the
 * migrations (migrations/0004_views.sql).
 *
 * The wide view's SQL is a pure function of the set of names (src/db/wide-view.ts), so "has the
 * set changed" is a comparison with the SQL stored in sqlite_master.
 */
import type Database from 'better-sqlite3';
import type { Mirror } from './connection.js';
import { rowsPerStatement } from './store/rows.js';
import { SQLITE_MAX_VARIABLES } from './store/sqlite-upsert.js';
import { ROLLUPS, WIDE_VIEW, wideViewSql } from './wide-view.js';

export { MAX_COLUMN_LENGTH, ROLLUPS, sanitizeColumnName, WIDE_VIEW, wideColumns, wideViewSql } from './wide-view.js';

function currentNames(sqlite: Database.Database): string[] {
  return sqlite.prepare('SELECT DISTINCT name FROM custom_fields').pluck().all() as string[];
}

function storedSql(sqlite: Database.Database): string | undefined {
  return sqlite.prepare("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?").pluck().get(WIDE_VIEW) as string | undefined;
}

/** Drops and recreates the wide view from the current names, in one transaction. */
export function rebuildWideView(sqlite: Database.Database): void {
  sqlite.transaction(() => {
    const next = wideViewSql(currentNames(sqlite));
    sqlite.exec(`DROP VIEW IF EXISTS "${WIDE_VIEW}"`);
    sqlite.exec(next);
  }).immediate();
}

/**
 * Rows in multi-row INSERTs (a full chunk's statement and one for the remainder): one statement
 * per row was 11,754 of a 2,000-people sync's statements, and more than the views' reading.
 */
function insertRows(sqlite: Database.Database, table: string, columns: readonly string[], rows: readonly unknown[][]): void {
  const chunk = rowsPerStatement(columns.length, SQLITE_MAX_VARIABLES);
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const statements = new Map<number, Database.Statement>();
  for (let start = 0; start < rows.length; start += chunk) {
    const part = rows.slice(start, start + chunk);
    let insert = statements.get(part.length);
    if (!insert) {
      insert = sqlite.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from(part, () => tuple).join(', ')}`);
      statements.set(part.length, insert);
    }
    insert.run(part.flat());
  }
}

/**
 * Rewrites the rollup tables from their views. The views are read first, outside any write
 * transaction (WAL: nobody waits for these seconds at 100k people); the replacement is one short
 * transaction, so readers see the old rollups or the new ones, never a mix.
 */
export function refreshRollups(sqlite: Database.Database): number {
  const started = performance.now();
  const read = ROLLUPS.map((r) => ({ r, rows: sqlite.prepare(`SELECT ${r.columns.join(', ')} FROM ${r.view}`).raw().all() as unknown[][] }));
  sqlite.transaction(() => {
    for (const { r, rows } of read) {
      sqlite.exec(`DELETE FROM ${r.table}`);
      insertRows(sqlite, r.table, r.columns, rows);
    }
    const ms = Math.round(performance.now() - started);
    sqlite.prepare('INSERT INTO rollup_state (id, refreshed_at, ms) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET refreshed_at = excluded.refreshed_at, ms = excluded.ms').run(new Date().toISOString(), ms);
  }).immediate();
  return Math.round(performance.now() - started);
}

/**
 * Brings what is derived from the data up to date, at the end of a sync: the wide view is
 * rebuilt when the set of custom-field names changed (cheap when not: one DISTINCT over an
 * index), the rollups are rewritten. Returns whether the wide view was rebuilt and the rollups' ms.
 */
export function refreshDerivedViews(mirror: Pick<Mirror, 'sqlite'>): { wideView: boolean; rollupMs: number } {
  const { sqlite } = mirror;
  const stale = wideViewSql(currentNames(sqlite)) !== storedSql(sqlite);
  if (stale) rebuildWideView(sqlite);
  return { wideView: stale, rollupMs: refreshRollups(sqlite) };
}
