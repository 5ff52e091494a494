import { sql } from 'drizzle-orm';
import type { Prepared, Store } from '../db/store/types.js';
import type { StreamCounters } from './context.js';

/** One finished stream run as `status` shows it. */
export interface RunRow {
  stream: string;
  status: string;
  trigger: string | null;
  startedAt: string;
  finishedAt: string | null;
  rowsInserted: number;
  rowsUpdated: number;
  requests: number;
  retries: number;
  error: string | null;
}

/**
 * sync_runs: one row per stream per run, written by the engine, read by `status` and the
 * dashboard. All of its SQL lives here, beside the cursors' StateStore (state.ts).
 */
export class RunLog {
  private readonly stale: Prepared<never>;

  constructor(private readonly store: Store) {
    this.stale = store.prepare(sql`UPDATE sync_runs SET status = 'interrupted', finished_at = ${sql.placeholder('at')} WHERE status = 'running' AND stream = ${sql.placeholder('stream')}`);
  }

  /**
   * A run of these streams still marked running was killed (one run of a stream at a time is
   * the rule: the worker enforces it with locks), so its rows say so.
   */
  markInterrupted(streams: readonly string[], at: string): Promise<void> {
    return this.store.transaction(async () => {
      for (const stream of streams) await this.stale.run({ at, stream });
    });
  }

  async start(runId: string, stream: string, trigger: string, startedAt: string): Promise<void> {
    await this.store.run(
      sql`INSERT INTO sync_runs (run_id, stream, trigger, started_at, status) VALUES (${runId}, ${stream}, ${trigger}, ${startedAt}, 'running')
       ON CONFLICT (run_id, stream) DO UPDATE SET started_at = excluded.started_at, status = 'running', error = NULL`,
    );
  }

  async finish(runId: string, stream: string, finishedAt: string, status: string, c: StreamCounters, error: string | null): Promise<void> {
    await this.store.run(
      sql`UPDATE sync_runs SET finished_at = ${finishedAt}, status = ${status}, windows = ${c.windows}, pages = ${c.pages}, rows_inserted = ${c.rowsInserted},
         rows_updated = ${c.rowsUpdated}, requests = ${c.requests}, retries = ${c.retries}, error = ${error} WHERE run_id = ${runId} AND stream = ${stream}`,
    );
  }
}

// Text ordered by code point, as SQLite's BINARY collation does, whatever PostgreSQL's collation is.
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The last `perStream` runs of every stream, newest first within a stream; read by `status` and the dashboard. */
export async function lastRuns(store: Pick<Store, 'all'>, perStream: number): Promise<RunRow[]> {
  const rows = await store.all<RunRow>(sql`
    SELECT stream, status, trigger, started_at AS "startedAt", finished_at AS "finishedAt", rows_inserted AS "rowsInserted",
           rows_updated AS "rowsUpdated", requests, retries, error
    FROM (SELECT *, row_number() OVER (PARTITION BY stream ORDER BY started_at DESC, id DESC) AS rn FROM sync_runs) r
    WHERE rn <= ${perStream} ORDER BY stream, started_at DESC, id DESC`);
  // A stable sort keeps each stream's newest-first order from the query.
  return rows.sort((x, y) => cmp(x.stream, y.stream));
}

/** When each stream last succeeded (ISO): the dashboard's mirror page and the worker's /metrics. */
export async function lastSuccess(store: Pick<Store, 'all'>): Promise<Record<string, string>> {
  const rows = await store.all<{ stream: string; at: string }>(
    sql`SELECT stream, max(finished_at) AS "at" FROM sync_runs WHERE status = 'succeeded' AND finished_at IS NOT NULL GROUP BY stream`,
  );
  return Object.fromEntries(rows.map((r) => [r.stream, r.at]));
}
