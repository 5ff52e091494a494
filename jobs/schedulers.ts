import type { Queue } from 'bullmq';
import type { Env } from '../src/config.js';
import { ConfigError, errorMessage } from '../src/errors.js';
import { FREQUENT_STREAMS, SYNC_JOB_OPTIONS, type SyncJobData } from './queues.js';

export const NIGHTLY_SCHEDULER = 'nightly';
export const FREQUENT_SCHEDULER = 'frequent';
export const FULL_SCHEDULER = 'full';

/**
 * Makes the sync queue's schedulers match the configuration. Run at every boot and after every
 * Redis reconnect (a Redis restarted without persistence has forgotten them): upserting by a
 * fixed id never duplicates a scheduler or its next job, and a changed cron, time zone or
 * interval replaces the old one. SCHEDULE_FREQUENT_MINUTES=0 removes the frequent sync.
 *
 * The optional full sync (SCHEDULE_FULL_CRON) exists because incremental windows only see
 * people with new messages: tag or custom-field edits made in Leeloo reach the mirror only
 * through a full re-read.
 *
 * The nightly job reconciles (an all-time list pass of people and channels, and a share of the
 * person details re-read), which catches such edits and deletions cheaply; the frequent job never
 * does, so it costs what an incremental costs.
 */
export async function registerSyncSchedulers(
  queue: Queue,
  env: Pick<Env, 'SCHEDULE_NIGHTLY_CRON' | 'SCHEDULE_TIMEZONE' | 'SCHEDULE_FREQUENT_MINUTES'> & Partial<Pick<Env, 'SCHEDULE_FULL_CRON'>>,
): Promise<void> {
  const cron = async (id: string, variable: string, pattern: string, data: SyncJobData) => {
    try {
      await queue.upsertJobScheduler(id, { pattern, tz: env.SCHEDULE_TIMEZONE }, { name: id, data, opts: SYNC_JOB_OPTIONS });
    } catch (err) {
      // cron-parser's own words ("cannot resolve alias …") plus which variable to fix.
      if (/cron|alias|validation|constraint|pattern|CronDate/i.test(errorMessage(err))) {
        throw new ConfigError(`${variable} "${pattern}" (time zone ${env.SCHEDULE_TIMEZONE}) is not a usable cron pattern: ${errorMessage(err)}`);
      }
      throw err;
    }
  };
  await cron(NIGHTLY_SCHEDULER, 'SCHEDULE_NIGHTLY_CRON', env.SCHEDULE_NIGHTLY_CRON, { trigger: 'nightly', reconcile: true });
  if (env.SCHEDULE_FULL_CRON) await cron(FULL_SCHEDULER, 'SCHEDULE_FULL_CRON', env.SCHEDULE_FULL_CRON, { trigger: 'full', full: true });
  else await queue.removeJobScheduler(FULL_SCHEDULER);
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
