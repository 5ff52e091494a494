import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { loadConfig, sqlitePath } from '../config.js';
import { openMirror } from '../db/connection.js';
import { ConfigError } from '../errors.js';
import { parseCheckpoint } from '../sync/state.js';
import { parseWhole, reportFatal } from './common.js';

export interface MirrorStatus {
  cursors: { stream: string; partition: string; cursor: string | null; inProgress: unknown; updatedAt: string }[];
  lastRuns: {
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
  }[];
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
    const lastRuns = m.sqlite
      .prepare(
        `SELECT stream, status, trigger, started_at AS startedAt, finished_at AS finishedAt, rows_inserted AS rowsInserted,
                rows_updated AS rowsUpdated, requests, retries, error
         FROM (SELECT *, row_number() OVER (PARTITION BY stream ORDER BY started_at DESC, id DESC) AS rn FROM sync_runs)
         WHERE rn <= ? ORDER BY stream, startedAt DESC`,
      )
      .all(runsPerStream) as MirrorStatus['lastRuns'];
    return { cursors, lastRuns };
  } finally {
    m.close();
  }
}

export function statusCommand(): Command {
  return new Command('status')
    .description('show per-stream cursors and the last runs with their counts and errors')
    .option('--json', 'print JSON instead of tables')
    .option('--runs <n>', 'runs to show per stream', '3')
    .action((o: { json?: boolean; runs: string }) => {
      try {
        const runs = parseWhole('--runs', o.runs, { min: 1, max: 1_000_000 })!;
        const env = loadConfig(process.env);
        const path = sqlitePath(env.DATABASE_URL);
        if (path !== ':memory:' && !existsSync(path)) throw new ConfigError(`no mirror at ${path} yet: run \`leeloo-sync sync\` first`);
        const st = readStatus(path, runs);
        if (o.json) {
          process.stdout.write(`${JSON.stringify(st, null, 2)}\n`);
          return;
        }
        process.stdout.write('Cursors\n');
        if (st.cursors.length === 0) process.stdout.write('  (none yet)\n');
        for (const c of st.cursors) {
          const ip = c.inProgress ? ` in progress: ${JSON.stringify(c.inProgress)}` : '';
          process.stdout.write(`  ${c.stream.padEnd(24)} ${c.cursor ?? '-'}${ip}\n`);
        }
        process.stdout.write('\nLast runs\n');
        if (st.lastRuns.length === 0) process.stdout.write('  (none yet)\n');
        for (const r of st.lastRuns) {
          const err = r.error ? `  error: ${r.error}` : '';
          process.stdout.write(
            `  ${r.stream.padEnd(24)} ${r.status.padEnd(11)} ${r.startedAt}  +${r.rowsInserted} ~${r.rowsUpdated}  ${r.requests} req, ${r.retries} retries${err}\n`,
          );
        }
      } catch (err) {
        reportFatal(err);
      }
    });
}
