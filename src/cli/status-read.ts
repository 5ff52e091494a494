import { openMirror } from '../db/connection.js';
import { readLearnedRate } from '../sync/rate-limit-finding.js';
import { lastRuns as readLastRuns, type RunRow } from '../sync/run-log.js';
import { parseCheckpoint } from '../sync/state.js';

export interface MirrorStatus {
  cursors: { stream: string; partition: string; cursor: string | null; inProgress: unknown; updatedAt: string }[];
  lastRuns: RunRow[];
  /** LEELOO_RATE_LIMIT=auto: the rate the last sync paced to and the limit it learned (api_findings), as of checkedAt. */
  rateLimit: { rate: number; ceiling: number | null; learnedAt: string | null; checkedAt: string } | null;
}

/** Per-stream cursors and each stream's most recent runs; read by `status` and the dashboard. */
export function readStatus(path: string, runsPerStream = 3): MirrorStatus {
  const m = openMirror(path, { migrate: false, readonly: true });
  try {
    const cursors = (m.sqlite.prepare('SELECT stream, partition, cursor, state, updated_at AS updatedAt FROM sync_state ORDER BY stream, partition').all() as {
      stream: string;
      partition: string;
      cursor: string | null;
      state: string | null;
      updatedAt: string;
    }[]).map(({ state, ...c }) => {
      const parsed = parseCheckpoint(state) as Record<string, unknown> | null | 'lost';
      if (parsed === 'lost') return { ...c, inProgress: 'checkpoint unreadable (not JSON): the next run reads this window again' };
      return { ...c, inProgress: parsed?.current ?? (parsed && 'offset' in parsed ? parsed : null) };
    });
    const lastRuns = readLastRuns(m.sqlite, runsPerStream);
    return { cursors, lastRuns, rateLimit: readLearnedRate(m.sqlite) };
  } finally {
    m.close();
  }
}
