/**
 * What is derived from the mirror's data after a sync: the generated view
 * `people_custom_fields_wide` (one column per distinct custom-field name) and the rollup tables
 * (copies of the daily views for the reports page). The other views are static and come with the
 * migrations (migrations/0004_views.sql).
 *
 * Custom-field names are user data (any text, Cyrillic, emoji, duplicates differing in case), so
 * column names are sanitised and made unique; the view's SQL is a pure function of the sorted
 * set of names, so "has the set changed" is a comparison with the SQL stored in sqlite_master,
 * with no bookkeeping table.
 */
import type Database from 'better-sqlite3';
import type { Mirror } from './connection.js';

export const WIDE_VIEW = 'people_custom_fields_wide';
export const MAX_COLUMN_LENGTH = 48;

// Leeloo companies are mostly Ukrainian and Russian: their field names keep a readable column name.
const CYRILLIC: Record<string, string> = {
  а: 'a', б: 'b', в: 'v', г: 'g', ґ: 'g', д: 'd', е: 'e', ё: 'e', є: 'ie', ж: 'zh', з: 'z', и: 'i', і: 'i', ї: 'i', й: 'i',
  к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'kh', ц: 'ts', ч: 'ch',
  ш: 'sh', щ: 'shch', ъ: '', ы: 'y', ь: '', э: 'e', ю: 'iu', я: 'ia',
};

/**
 * Lowercase, Cyrillic transliterated, accents dropped, every run of other characters becomes
 * `_`, `f_` before a leading digit, `field` when nothing is left, at most MAX_COLUMN_LENGTH.
 */
export function sanitizeColumnName(name: string): string {
  let s = name
    .toLowerCase()
    .replace(/[\u0400-\u04ff]/g, (c) => CYRILLIC[c] ?? c)
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (s === '') s = 'field';
  if (/^[0-9]/.test(s)) s = `f_${s}`;
  return s.slice(0, MAX_COLUMN_LENGTH).replace(/_+$/, '');
}

/**
 * Column names for `names` (in the order given): sanitised, then `_2`, `_3`, … on collisions
 * (case-insensitively, as SQLite compares identifiers), never `person_id`, never longer than
 * MAX_COLUMN_LENGTH.
 */
export function wideColumns(names: readonly string[]): { name: string; column: string }[] {
  const taken = new Set<string>(['person_id']);
  return names.map((name) => {
    const base = sanitizeColumnName(name);
    let column = base;
    for (let i = 2; taken.has(column); i++) {
      const suffix = `_${i}`;
      column = base.slice(0, MAX_COLUMN_LENGTH - suffix.length) + suffix;
    }
    taken.add(column);
    return { name, column };
  });
}

const quoteLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Names sorted by code point, so the same set always gives the same SQL. */
export function wideViewSql(names: readonly string[]): string {
  const sorted = [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const cols = wideColumns(sorted).map(
    ({ name, column }) =>
      `,\n  (SELECT cf.value FROM custom_fields cf WHERE cf.person_id = p.id AND cf.name = ${quoteLiteral(name)} ORDER BY cf.ordinal DESC LIMIT 1) AS "${column}"`,
  );
  return `CREATE VIEW "${WIDE_VIEW}" AS\nSELECT p.id AS person_id${cols.join('')}\nFROM people p\nWHERE p.deleted_at IS NULL`;
}

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

/** Each rollup table and the view it copies (same column names). */
export const ROLLUPS = [
  { table: 'rollup_messages_daily', view: 'messages_daily', columns: ['day', 'source', 'type', 'messages', 'channels'] },
  { table: 'rollup_funnel_daily', view: 'funnel_daily', columns: ['day', 'new_people', 'people_wrote', 'people_ordered'] },
  { table: 'rollup_orders_daily', view: 'orders_daily', columns: ['day', 'currency', 'status', 'orders', 'amount', 'revenue'] },
  { table: 'rollup_tag_membership', view: 'tag_membership', columns: ['tag', 'people'] },
] as const;

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
      const insert = sqlite.prepare(`INSERT INTO ${r.table} (${r.columns.join(', ')}) VALUES (${r.columns.map(() => '?').join(', ')})`);
      for (const row of rows) insert.run(row);
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
