import type Database from 'better-sqlite3';
import type { Logger } from '../log.js';

/**
 * A checkpoint as stored, or null when there is none or it cannot be read: `state` is JSON text
 * anyone with SQL access can edit, and a run must not die on it. A lost checkpoint only costs
 * re-reading the window it described (from the cursor, or the start date).
 */
export function parseCheckpoint(text: string | null): object | null | 'lost' {
  if (text === null || text === '') return null;
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : 'lost';
  } catch {
    return 'lost';
  }
}

/**
 * Per-stream cursors in sync_state. Writes are synchronous so they can join the transaction that
 * commits a page's rows: the cursor never runs ahead of, or behind, the data.
 */
export class StateStore {
  private readonly getStmt: Database.Statement<[string, string]>;
  private readonly putStmt: Database.Statement<[string, string, string | null, string | null, string]>;
  private readonly delStmt: Database.Statement<[string, string]>;
  private readonly warned = new Set<string>();

  constructor(
    sqlite: Database.Database,
    private readonly logger?: Pick<Logger, 'warn'>,
  ) {
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
    const state = parseCheckpoint(row.state);
    if (state === 'lost') {
      const key = `${stream}\0${partition}`;
      if (!this.warned.has(key)) {
        this.warned.add(key);
        this.logger?.warn({ stream, partition }, 'sync_state.state is not a JSON object: checkpoint lost, its window is read again from the cursor');
      }
      return { cursor: row.cursor, state: null };
    }
    return { cursor: row.cursor, state: state as S | null };
  }

  put(stream: string, partition: string, cursor: string | null, state: unknown): void {
    this.putStmt.run(stream, partition, cursor, state === null || state === undefined ? null : JSON.stringify(state), new Date().toISOString());
  }

  clear(stream: string, partition = ''): void {
    this.delStmt.run(stream, partition);
  }
}
