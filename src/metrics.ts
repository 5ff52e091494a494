import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RateLimitSnapshot } from './leeloo/aimd.js';
import type { StreamResult } from './sync/engine.js';

/*
 * Prometheus metrics of one worker process, in a registry of its own (several runtimes in one
 * test process must not collide in prom-client's global one). Counters are per process, as
 * Prometheus expects; values that belong to the whole deployment (queue depths, the last
 * successful sync of each stream) are read from Redis and the mirror at scrape time, so every
 * worker reports the same truth and a restart forgets nothing.
 *
 * Names:
 *   leeloo_sync_rows_synced_total{stream,op}                 rows inserted/updated by syncs
 *   leeloo_sync_stream_runs_total{stream,status}             stream runs by outcome
 *   leeloo_sync_api_requests_total{route,status}             HTTP attempts (retries included)
 *   leeloo_sync_api_retries_total{route}                     retried attempts
 *   leeloo_sync_api_rate_limited_total{route}                429 answers
 *   leeloo_sync_api_errors_total{route,kind}                 calls that failed for good
 *   leeloo_sync_jobs_total{queue,name,outcome}               finished job attempts
 *   leeloo_sync_job_duration_seconds{queue,name,outcome}     wall time of job attempts
 *   leeloo_sync_queue_jobs{queue,state}                      jobs per queue and state (scrape)
 *   leeloo_sync_last_success_timestamp_seconds{stream}       end of the last successful run (scrape)
 *   leeloo_sync_rate_limit_current{mode}                     requests/s the limiter paces to now (scrape)
 *   leeloo_sync_rate_limit_learned{mode}                     auto: the API's limit as learned from 429s (scrape)
 * plus prom-client's default process metrics (leeloo_sync_process_*, leeloo_sync_nodejs_*).
 */

export type JobOutcome = 'completed' | 'failed' | 'retry' | 'deferred' | 'skipped' | 'interrupted';

export interface ClientEventForMetrics {
  type: string;
  route?: string;
  status?: number;
  kind?: string;
}

export interface MetricsSources {
  /** Job counts per state for each queue; called at scrape time. */
  queueDepths?: () => Promise<Record<string, Record<string, number>>>;
  /** ISO time of the last successful run per stream; called at scrape time. */
  lastSuccess?: () => Record<string, string> | Promise<Record<string, string>>;
  /** The shared limiter's rate and what it learned; called at scrape time. */
  rateLimit?: () => RateLimitSnapshot | undefined;
}

export class Metrics {
  readonly registry = new Registry();
  private sources: MetricsSources = {};
  private readonly rows: Counter<'stream' | 'op'>;
  private readonly streamRuns: Counter<'stream' | 'status'>;
  private readonly requests: Counter<'route' | 'status'>;
  private readonly retries: Counter<'route'>;
  private readonly rateLimited: Counter<'route'>;
  private readonly apiErrors: Counter<'route' | 'kind'>;
  private readonly jobs: Counter<'queue' | 'name' | 'outcome'>;
  private readonly jobDuration: Histogram<'queue' | 'name' | 'outcome'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'leeloo_sync_' });
    this.rows = new Counter({ name: 'leeloo_sync_rows_synced_total', help: 'Rows written to the mirror by syncs (op: inserted or updated).', labelNames: ['stream', 'op'], registers });
    this.streamRuns = new Counter({ name: 'leeloo_sync_stream_runs_total', help: 'Stream runs by final status.', labelNames: ['stream', 'status'], registers });
    this.requests = new Counter({ name: 'leeloo_sync_api_requests_total', help: 'Leeloo API HTTP attempts, retries included (status 0: no HTTP answer).', labelNames: ['route', 'status'], registers });
    this.retries = new Counter({ name: 'leeloo_sync_api_retries_total', help: 'Leeloo API attempts that were retried.', labelNames: ['route'], registers });
    this.rateLimited = new Counter({ name: 'leeloo_sync_api_rate_limited_total', help: 'Leeloo API 429 answers.', labelNames: ['route'], registers });
    this.apiErrors = new Counter({ name: 'leeloo_sync_api_errors_total', help: 'Leeloo API calls that failed for good (after their retries).', labelNames: ['route', 'kind'], registers });
    this.jobs = new Counter({ name: 'leeloo_sync_jobs_total', help: 'Finished job attempts by outcome.', labelNames: ['queue', 'name', 'outcome'], registers });
    this.jobDuration = new Histogram({
      name: 'leeloo_sync_job_duration_seconds',
      help: 'Wall time of job attempts.',
      labelNames: ['queue', 'name', 'outcome'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 14400],
      registers,
    });
    const sources = () => this.sources;
    new Gauge({
      name: 'leeloo_sync_queue_jobs',
      help: 'Jobs per queue and state (read from Redis at scrape time).',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        this.reset();
        const depths = await sources().queueDepths?.().catch(() => undefined);
        for (const [queue, counts] of Object.entries(depths ?? {})) {
          for (const [state, n] of Object.entries(counts)) this.set({ queue, state }, n);
        }
      },
    });
    new Gauge({
      name: 'leeloo_sync_last_success_timestamp_seconds',
      help: 'Unix time at which the last successful run of each stream finished (read from the mirror at scrape time).',
      labelNames: ['stream'],
      registers,
      async collect() {
        this.reset();
        let last: Record<string, string> = {};
        try {
          last = (await sources().lastSuccess?.()) ?? {};
        } catch {
          // No mirror yet, or it is locked for a moment: report nothing rather than fail the scrape.
        }
        for (const [stream, iso] of Object.entries(last)) {
          const t = Date.parse(iso);
          if (Number.isFinite(t)) this.set({ stream }, t / 1000);
        }
      },
    });
    new Gauge({
      name: 'leeloo_sync_rate_limit_current',
      help: 'Requests per second the client rate limiter paces to now (LEELOO_RATE_LIMIT, or the rate auto mode has reached).',
      labelNames: ['mode'],
      registers,
      collect() {
        this.reset();
        const r = sources().rateLimit?.();
        if (r) this.set({ mode: r.mode }, r.rate);
      },
    });
    new Gauge({
      name: 'leeloo_sync_rate_limit_learned',
      help: 'LEELOO_RATE_LIMIT=auto: the API limit as learned (requests per second sent when the last 429 came); absent until one came.',
      labelNames: ['mode'],
      registers,
      collect() {
        // Labelled so that it is absent, not 0, until a 429 taught it something.
        this.reset();
        const r = sources().rateLimit?.();
        if (r && r.ceiling !== null) this.set({ mode: r.mode }, r.ceiling);
      },
    });
  }

  setSources(s: MetricsSources): void {
    this.sources = { ...this.sources, ...s };
  }

  /** Compose with countClientEvent as the client's onEvent. */
  readonly onClientEvent = (e: ClientEventForMetrics): void => {
    const route = e.route ?? 'unknown';
    if (e.type === 'request') this.requests.inc({ route, status: String(e.status ?? 0) });
    else if (e.type === 'retry') this.retries.inc({ route });
    else if (e.type === 'rate_limited') this.rateLimited.inc({ route });
    else if (e.type === 'error') this.apiErrors.inc({ route, kind: e.kind ?? 'unknown' });
  };

  recordStreams(results: StreamResult[]): void {
    for (const r of results) {
      this.streamRuns.inc({ stream: r.stream, status: r.status });
      if (r.counters.rowsInserted) this.rows.inc({ stream: r.stream, op: 'inserted' }, r.counters.rowsInserted);
      if (r.counters.rowsUpdated) this.rows.inc({ stream: r.stream, op: 'updated' }, r.counters.rowsUpdated);
    }
  }

  recordJob(queue: string, name: string, outcome: JobOutcome, seconds: number): void {
    this.jobs.inc({ queue, name, outcome });
    this.jobDuration.observe({ queue, name, outcome }, seconds);
  }
}
