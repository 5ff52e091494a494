import { sql } from 'drizzle-orm';
import { jsonFor } from '../db/pg-types.js';
import type { Prepared, Store } from '../db/store/types.js';
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

const p = (name: string) => sql.placeholder(name);

/**
 * Per-stream cursors in sync_state. Called inside the store transaction that commits a page's
 * rows, a put joins it: the cursor never runs ahead of, or behind, the data.
 */
export class StateStore {
  private readonly getStmt: Prepared<{ cursor: string | null; state: string | null }>;
  private readonly putStmt: Prepared<never>;
  private readonly delStmt: Prepared<never>;
  private readonly warned = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly logger?: Pick<Logger, 'warn'>,
  ) {
    this.getStmt = store.prepare(sql`SELECT cursor, state FROM sync_state WHERE stream = ${p('stream')} AND partition = ${p('partition')}`);
    this.putStmt = store.prepare(
      sql`INSERT INTO sync_state (stream, partition, cursor, state, updated_at) VALUES (${p('stream')}, ${p('partition')}, ${p('cursor')}, ${p('state')}, ${p('at')})
       ON CONFLICT (stream, partition) DO UPDATE SET cursor = excluded.cursor, state = excluded.state, updated_at = excluded.updated_at`,
    );
    this.delStmt = store.prepare(sql`DELETE FROM sync_state WHERE stream = ${p('stream')} AND partition = ${p('partition')}`);
  }

  async get<S>(stream: string, partition = ''): Promise<{ cursor: string | null; state: S | null }> {
    const row = await this.getStmt.get({ stream, partition });
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

  async put(stream: string, partition: string, cursor: string | null, state: unknown): Promise<void> {
    await this.putStmt.run({ stream, partition, cursor, state: state === null || state === undefined ? null : jsonFor(this.store.dialect, JSON.stringify(state)), at: new Date().toISOString() });
  }

  async clear(stream: string, partition = ''): Promise<void> {
    await this.delStmt.run({ stream, partition });
  }
}
