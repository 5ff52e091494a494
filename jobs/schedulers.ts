import type { Queue } from 'bullmq';
import type { Env } from '../src/config.js';
import { ConfigError, errorMessage } from '../src/errors.js';
import { FREQUENT_STREAMS, SYNC_JOB_OPTIONS, type SyncJobData } from './queues.js';

export const NIGHTLY_SCHEDULER = 'nightly';
export const FREQUENT_SCHEDULER = 'frequent';

/**
 * Makes the sync queue's schedulers match the configuration. Run at every boot and after every
 * Redis reconnect (a Redis restarted without persistence has forgotten them): upserting by a
 * fixed id never duplicates a scheduler or its next job, and a changed cron, time zone or
 * interval replaces the old one. SCHEDULE_FREQUENT_MINUTES=0 removes the frequent sync.
 */
export async function registerSyncSchedulers(queue: Queue, env: Pick<Env, 'SCHEDULE_NIGHTLY_CRON' | 'SCHEDULE_TIMEZONE' | 'SCHEDULE_FREQUENT_MINUTES'>): Promise<void> {
  const nightly: SyncJobData = { trigger: 'nightly' };
  try {
    await queue.upsertJobScheduler(
      NIGHTLY_SCHEDULER,
      { pattern: env.SCHEDULE_NIGHTLY_CRON, tz: env.SCHEDULE_TIMEZONE },
      { name: NIGHTLY_SCHEDULER, data: nightly, opts: SYNC_JOB_OPTIONS },
    );
  } catch (err) {
    // cron-parser's own words ("cannot resolve alias …") plus which variable to fix.
    if (/cron|alias|validation|constraint|pattern|CronDate/i.test(errorMessage(err))) {
      throw new ConfigError(`SCHEDULE_NIGHTLY_CRON "${env.SCHEDULE_NIGHTLY_CRON}" (time zone ${env.SCHEDULE_TIMEZONE}) is not a usable cron pattern: ${errorMessage(err)}`);
    }
    throw err;
  }
  if (env.SCHEDULE_FREQUENT_MINUTES > 0) {
    const frequent: SyncJobData = { trigger: 'frequent', streams: [...FREQUENT_STREAMS] };
    await queue.upsertJobScheduler(
      FREQUENT_SCHEDULER,
      { every: env.SCHEDULE_FREQUENT_MINUTES * 60_000 },
      { name: FREQUENT_SCHEDULER, data: frequent, opts: SYNC_JOB_OPTIONS },
    );
  } else {
    await queue.removeJobScheduler(FREQUENT_SCHEDULER);
  }
}
