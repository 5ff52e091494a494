import type Database from 'better-sqlite3';

/**
 * Per-stream cursors in sync_state. Writes are synchronous so they can join the transaction that
 * commits a page's rows: the cursor never runs ahead of, or behind, the data.
 */
export class StateStore {
  private readonly getStmt: Database.Statement<[string, string]>;
  private readonly putStmt: Database.Statement<[string, string, string | null, string | null, string]>;
  private readonly delStmt: Database.Statement<[string, string]>;

  constructor(sqlite: Database.Database) {
    this.getStmt = sqlite.prepare('SELECT cursor, state FROM sync_state WHERE stream = ? AND partition = ?');
    this.putStmt = sqlite.prepare(
      `INSERT INTO sync_state (stream, partition, cursor, state, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (stream, partition) DO UPDATE SET cursor = excluded.cursor, state = excluded.state, updated_at = excluded.updated_at`,
    );
    this.delStmt = sqlite.prepare('DELETE FROM sync_state WHERE stream = ? AND partition = ?');
  }

  get<S>(stream: string, partition = ''): { cursor: string | null; state: S | null } {
    const row = this.getStmt.get(stream, partition) as { cursor: string | null; state: string | null } | undefined;
    if (!row) return { cursor: null, state: null };
    return { cursor: row.cursor, state: row.state ? (JSON.parse(row.state) as S) : null };
  }

  put(stream: string, partition: string, cursor: string | null, state: unknown): void {
    this.putStmt.run(stream, partition, cursor, state === null || state === undefined ? null : JSON.stringify(state), new Date().toISOString());
  }

  clear(stream: string, partition = ''): void {
    this.delStmt.run(stream, partition);
  }
}
