import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { loadConfig, sqlitePath } from '../config.js';
import { openMirror } from '../db/connection.js';
import { ConfigError } from '../errors.js';
import { readLearnedRate } from '../sync/rate-limit-finding.js';
import { reportFatal } from './common.js';

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
      const parsed = state ? (JSON.parse(state) as Record<string, unknown>) : null;
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
    return { cursors, lastRuns, rateLimit: readLearnedRate(m.sqlite) };
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
        const env = loadConfig(process.env);
        const path = sqlitePath(env.DATABASE_URL);
        if (path !== ':memory:' && !existsSync(path)) throw new ConfigError(`no mirror at ${path} yet: run \`leeloo-sync sync\` first`);
        const runs = Number(o.runs);
        if (!Number.isInteger(runs) || runs < 1) throw new ConfigError(`--runs must be a whole number of at least 1 (got "${o.runs}")`);
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
        const rl = st.rateLimit;
        const mode = env.LEELOO_RATE_LIMIT === 'auto' ? `auto (max ${env.LEELOO_RATE_LIMIT_MAX}/s)` : `${env.LEELOO_RATE_LIMIT}/s fixed`;
        process.stdout.write(`\nRate limit: ${mode}\n`);
        if (!rl) process.stdout.write('  nothing learned yet\n');
        else {
          const learned = rl.ceiling === null ? 'no 429 seen yet' : `learned ${rl.ceiling}/s${rl.learnedAt ? ` (last 429 at ${rl.learnedAt})` : ''}`;
          process.stdout.write(`  current ${rl.rate}/s, ${learned}; stored ${rl.checkedAt}\n`);
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
