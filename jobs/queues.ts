import type { JobsOptions } from 'bullmq';
import { z } from 'zod';

/*
 * Job definitions: queue names, job data, and the options every job of a queue gets. The
 * worker, the schedulers and `sync-now` all build jobs from here, so a scheduled run and a
 * manual one differ only in their data.
 */

export const SYNC_QUEUE = 'sync';

/** The frequent light incremental: what changes all day long. */
export const FREQUENT_STREAMS = ['people', 'communication_channels', 'chat_messages'] as const;

export const SYNC_TRIGGERS = ['nightly', 'frequent', 'full', 'manual'] as const;
export type SyncTrigger = (typeof SYNC_TRIGGERS)[number];

export const syncJobDataSchema = z.object({
  trigger: z.enum(SYNC_TRIGGERS),
  /** Stream names; absent: every default stream (what `leeloo-sync sync` runs). */
  streams: z.array(z.string().min(1)).min(1).optional(),
  full: z.boolean().optional(),
  /** An all-time list pass of people and channels and a rolling detail re-read (the nightly job's default). */
  reconcile: z.boolean().optional(),
  /** ISO day, the lower bound of this run's date windows. */
  since: z.string().optional(),
});
export type SyncJobData = z.infer<typeof syncJobDataSchema>;

export interface SyncJobResult {
  runId?: string;
  /** The streams were already being synced by another run when this job started. */
  skipped?: { reason: string; heldBy: { stream: string; owner: string }[] };
  streams?: { stream: string; status: string; inserted: number; updated: number; error?: string }[];
}

/**
 * Retries: 5 attempts, exponential backoff from 30 s (30 s, 1 min, 2 min, 4 min) with jitter,
 * so a flaky API hour is ridden out but a dead one is reported within ~8 minutes. Retention:
 * finished jobs are evicted by age and count, so Redis does not grow with every run (a frequent
 * sync every 15 minutes is ~670 jobs a week).
 */
export const SYNC_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 30_000, jitter: 0.2 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 1000 },
  removeOnFail: { age: 30 * 24 * 3600, count: 1000 },
} as const satisfies JobsOptions;

/** Same streams and mode: the same request; a second one while the first waits is dropped. */
export function syncNowDeduplicationId(streams: string[] | undefined, full: boolean, reconcile = false): string {
  const key = streams && streams.length > 0 ? [...new Set(streams)].sort().join(',') : '*';
  return `sync-now:${key}:${full ? 'full' : 'incremental'}${reconcile ? ':reconcile' : ''}`;
}
