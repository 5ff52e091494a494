import { Command } from 'commander';
import type { Env } from '../config.js';
import type { Logger } from '../log.js';
import type { RunResult } from '../sync/engine.js';
import { EXIT_FAILED, parseDay, parseStreams, reportFatal } from './common.js';

export interface SyncCliOptions {
  streams?: string;
  full?: boolean;
  since?: string;
  reconcile?: boolean;
}

/** Shared by `sync` and `demo`: one in-process run against the configured API. */
export async function syncOnce(env: Env, logger: Logger, opts: { streams?: string[]; full?: boolean; since?: Date; reconcile?: boolean; trigger: string; tty: boolean }): Promise<RunResult> {
  // Loaded here, not at the top: `leeloo-sync --help` must not pay for the engine (README "Development").
  const [{ openStore, STORE_RETRY_MESSAGE }, { createClientFromEnv }, { countClientEvent }, { resolveStreams, runSync }, { createProgress }, { loadLearnedRate }] = await Promise.all([
    import('../db/store/index.js'),
    import('../leeloo/client.js'),
    import('../sync/context.js'),
    import('../sync/engine.js'),
    import('../sync/progress-view.js'),
    import('../sync/rate-limit-finding.js'),
  ]);
  resolveStreams(opts.streams, env); // reject bad names before touching the database
  // A SQLite file or a postgres:// URL: the engine speaks to either through the store.
  const store = await openStore(env.DATABASE_URL, { onRetry: (r) => logger.info(r, STORE_RETRY_MESSAGE) });
  let client: ReturnType<typeof createClientFromEnv>;
  let learnedRate: Awaited<ReturnType<typeof loadLearnedRate>>;
  try {
    learnedRate = env.LEELOO_RATE_LIMIT === 'auto' ? await loadLearnedRate(store) : null;
    client = createClientFromEnv(env, { logger, onEvent: countClientEvent, learnedRate });
  } catch (err) {
    await store.close();
    throw err;
  }
  if (env.LEELOO_RATE_LIMIT === 'auto') {
    logger.info({ startRate: client.rateLimit()?.rate, learned: learnedRate?.ceiling ?? null, max: env.LEELOO_RATE_LIMIT_MAX }, 'rate limit: auto (learned from 429s; kept in api_findings)');
  }
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    logger.warn({ signal: sig }, 'stopping after the current page; the next run resumes from there');
    abort.abort(new Error(`interrupted by ${sig}`));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await runSync({
      store,
      client,
      env,
      logger,
      streams: opts.streams,
      full: opts.full,
      since: opts.since,
      reconcile: opts.reconcile,
      trigger: opts.trigger,
      signal: abort.signal,
      progress: createProgress({ tty: opts.tty, logger }),
    });
    await store.refreshDerivedViews(); // views generated from the data (custom-field columns)
    return result;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await client.close();
    await store.close();
  }
}

export function printRunSummary(result: RunResult, out: NodeJS.WritableStream = process.stdout): void {
  const rows = result.streams.map((r) => ({
    stream: r.stream,
    status: r.status,
    inserted: r.counters.rowsInserted,
    updated: r.counters.rowsUpdated,
    pages: r.counters.pages,
    requests: r.counters.requests,
    retries: r.counters.retries,
  }));
  const cols = ['stream', 'status', 'inserted', 'updated', 'pages', 'requests', 'retries'] as const;
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(width[i]!)).join('  ').trimEnd();
  out.write(`${line([...cols])}\n`);
  for (const r of rows) out.write(`${line(cols.map((c) => String(r[c])))}\n`);
}

export function syncCommand(): Command {
  return new Command('sync')
    .description('run one sync in-process (no Redis needed); applies migrations first')
    .option('--streams <names>', 'comma-separated streams (table names) to sync; default all')
    .option('--full', 'ignore cursors and refetch everything, details included')
    .option('--since <date>', 'lower bound YYYY-MM-DD (UTC) for the date windows of this run')
    .option('--reconcile', 'also list people and channels over all time (edits without a message, deletions) and re-read the oldest person details')
    .action(async (o: SyncCliOptions) => {
      try {
        const streams = await parseStreams(o.streams);
        const since = parseDay('--since', o.since);
        const [{ loadConfig }, { createLogger }] = await Promise.all([import('../config.js'), import('../log.js')]);
        const env = loadConfig(process.env, { requireToken: true });
        const tty = Boolean(process.stderr.isTTY) && !process.env.CI;
        const logger = createLogger({ level: tty && !process.env.LOG_LEVEL ? 'warn' : env.LOG_LEVEL });
        const result = await syncOnce(env, logger, { streams, full: o.full, since, reconcile: o.reconcile, trigger: 'cli', tty });
        printRunSummary(result);
        if (!result.ok) {
          const failed = result.streams.filter((r) => r.status !== 'succeeded');
          const first = failed.find((r) => r.status === 'failed') ?? failed[0]!;
          process.stderr.write(`leeloo-sync: sync failed: ${first.stream}: ${first.error ?? first.status}${failed.length > 1 ? ` (+${failed.length - 1} more streams did not succeed)` : ''}\n`);
          process.exitCode = EXIT_FAILED;
        }
      } catch (err) {
        reportFatal(err);
      }
    });
}
