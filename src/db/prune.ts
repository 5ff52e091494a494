import type Database from 'better-sqlite3';

/**
 * Deletes rows of `table` whose key is not in `keep`: how a full refresh drops what the source no
 * longer lists. The kept keys go through a temp table rather than a giant `NOT IN (?, ?, …)`,
 * which would hit SQLite's bound-variable limit. Synchronous: call inside a transaction.
 */
export function deleteMissing(sqlite: Database.Database, table: string, keyColumn: string, keep: Iterable<string>, where?: string): number {
  sqlite.exec('CREATE TEMP TABLE IF NOT EXISTS prune_keep (k TEXT PRIMARY KEY)');
  sqlite.exec('DELETE FROM prune_keep');
  const ins = sqlite.prepare('INSERT OR IGNORE INTO prune_keep (k) VALUES (?)');
  for (const k of keep) ins.run(k);
  const extra = where ? ` AND (${where})` : '';
  const res = sqlite.prepare(`DELETE FROM "${table}" WHERE "${keyColumn}" NOT IN (SELECT k FROM prune_keep)${extra}`).run();
  sqlite.exec('DELETE FROM prune_keep');
  return res.changes;
}
