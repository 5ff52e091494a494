import { sql } from 'drizzle-orm';
import type { Store } from '../db/store/types.js';
import { learnedRateOf, RATE_LIMIT_FINDING } from '../sync/rate-limit-finding.js';
import type { RunRow } from '../sync/run-log.js';
import { parseCheckpoint } from '../sync/state.js';

export interface MirrorStatus {
  cursors: { stream: string; partition: string; cursor: string | null; inProgress: unknown; updatedAt: string }[];
  lastRuns: RunRow[];
  /** LEELOO_RATE_LIMIT=auto: the rate the last sync paced to and the limit it learned (api_findings), as of checkedAt. */
  rateLimit: { rate: number; ceiling: number | null; learnedAt: string | null; checkedAt: string } | null;
}

/** What reading the status needs of a Store. */
export type StatusReader = Pick<Store, 'all' | 'get'>;

// Text ordered by code point, as SQLite's BINARY collation does, whatever PostgreSQL's collation is.
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The last `perStream` runs of every stream, newest first within a stream. */
export async function lastRunsFrom(store: StatusReader, perStream: number): Promise<RunRow[]> {
  const rows = await store.all<RunRow>(sql`
    SELECT stream, status, trigger, started_at AS "startedAt", finished_at AS "finishedAt", rows_inserted AS "rowsInserted",
           rows_updated AS "rowsUpdated", requests, retries, error
    FROM (SELECT *, row_number() OVER (PARTITION BY stream ORDER BY started_at DESC, id DESC) AS rn FROM sync_runs) r
    WHERE rn <= ${perStream} ORDER BY stream, started_at DESC, id DESC`);
  // A stable sort keeps each stream's newest-first order from the query.
  return rows.sort((a, b) => cmp(a.stream, b.stream));
}

async function learnedRate(store: StatusReader): Promise<MirrorStatus['rateLimit']> {
  let row: { value: string; checkedAt: string } | undefined;
  try {
    row = await store.get(sql`SELECT value, checked_at AS "checkedAt" FROM api_findings WHERE name = ${RATE_LIMIT_FINDING}`);
  } catch {
    return null; // a mirror from before api_findings: nothing learned yet
  }
  if (!row) return null;
  let value: unknown;
  try {
    value = JSON.parse(row.value);
  } catch {
    return null; // written by hand or a broken tool: as FindingsStore reads it, unchecked
  }
  return learnedRateOf({ value, checkedAt: row.checkedAt });
}

/** Per-stream cursors, each stream's most recent runs and the learned rate, from an open Store. */
export async function readStatusFrom(store: StatusReader, runsPerStream = 3): Promise<MirrorStatus> {
  const rows = await store.all<{ stream: string; partition: string; cursor: string | null; state: string | null; updatedAt: string }>(
    sql`SELECT stream, partition, cursor, state, updated_at AS "updatedAt" FROM sync_state`,
  );
  const cursors = rows
    .sort((a, b) => cmp(a.stream, b.stream) || cmp(a.partition, b.partition))
    .map(({ state, ...c }) => {
      const parsed = parseCheckpoint(state) as Record<string, unknown> | null | 'lost';
      if (parsed === 'lost') return { ...c, inProgress: 'checkpoint unreadable (not JSON): the next run reads this window again' };
      return { ...c, inProgress: parsed?.current ?? (parsed && 'offset' in parsed ? parsed : null) };
    });
  return { cursors, lastRuns: await lastRunsFrom(store, runsPerStream), rateLimit: await learnedRate(store) };
}

/**
 * The status of the mirror `databaseUrl` names (a SQLite path or a postgres:// URL), opened
 * read-only; read by `status` and the dashboard.
 */
export async function readStatus(databaseUrl: string, runsPerStream = 3): Promise<MirrorStatus> {
  const { openStore } = await import('../db/store/index.js');
  const store = await openStore(databaseUrl, { migrate: false, readonly: true });
  try {
    return await readStatusFrom(store, runsPerStream);
  } finally {
    await store.close();
  }
}
