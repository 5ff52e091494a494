import type Database from 'better-sqlite3';

/**
 * What leeloo-sync has learned about the API (table `api_findings`): doctor's checks, the first
 * sync's own probe, the learned rate limit. A finding is a named JSON value with the time it was
 * checked and one line saying what was observed. Writes are synchronous, so a finding can join
 * the transaction of the page that produced it.
 */
export interface Finding<V> {
  name: string;
  value: V;
  detail: string | null;
  source: string;
  checkedAt: string;
}

interface FindingRow {
  name: string;
  value: string;
  detail: string | null;
  source: string;
  checked_at: string;
}

export class FindingsStore {
  private readonly getStmt: Database.Statement<[string], FindingRow>;
  private readonly allStmt: Database.Statement<[], FindingRow>;
  private readonly putStmt: Database.Statement<[string, string, string | null, string, string]>;

  constructor(sqlite: Database.Database) {
    this.getStmt = sqlite.prepare('SELECT name, value, detail, source, checked_at FROM api_findings WHERE name = ?');
    this.allStmt = sqlite.prepare('SELECT name, value, detail, source, checked_at FROM api_findings ORDER BY name');
    this.putStmt = sqlite.prepare(
      `INSERT INTO api_findings (name, value, detail, source, checked_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value, detail = excluded.detail, source = excluded.source, checked_at = excluded.checked_at`,
    );
  }

  /** A finding, or null when it has not been checked or its stored JSON is unreadable. */
  get<V>(name: string): Finding<V> | null {
    const row = this.getStmt.get(name);
    return row ? parseRow<V>(row) : null;
  }

  all(): Finding<unknown>[] {
    return this.allStmt.all().flatMap((r) => parseRow<unknown>(r) ?? []);
  }

  put<V>(name: string, value: V, source: string, detail: string | null = null, checkedAt = new Date()): void {
    this.putStmt.run(name, JSON.stringify(value), detail, source, checkedAt.toISOString());
  }
}

function parseRow<V>(row: FindingRow): Finding<V> | null {
  let value: V;
  try {
    value = JSON.parse(row.value) as V;
  } catch {
    // Written by hand or by a broken tool: treat it as unchecked, so the check runs again.
    return null;
  }
  return { name: row.name, value, detail: row.detail, source: row.source, checkedAt: row.checked_at };
}
