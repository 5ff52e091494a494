import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { SYNC_QUEUE } from '../../jobs/queues.js';
import { startWorker } from '../../jobs/runtime.js';
import { registerSyncSchedulers } from '../../jobs/schedulers.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { tempDbPath } from '../helpers/mirror.js';
import { cleanupPrefix, REDIS_URL, testPrefix } from './helpers.js';
import { loadConfig } from '../../src/config.js';

const prefixes: string[] = [];
const db = tempDbPath('ls-sched-');
afterAll(async () => {
  for (const p of prefixes) await cleanupPrefix(p);
  db.cleanup();
});

/** One "boot": a fresh connection and Queue, as a restarted worker has. */
async function boot<T>(prefix: string, fn: (q: Queue) => Promise<T>): Promise<T> {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(SYNC_QUEUE, { connection, prefix });
  try {
    return await fn(queue);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

const env = (o: Partial<{ SCHEDULE_NIGHTLY_CRON: string; SCHEDULE_TIMEZONE: string; SCHEDULE_FREQUENT_MINUTES: number }> = {}) => ({
  SCHEDULE_NIGHTLY_CRON: '0 3 * * *',
  SCHEDULE_TIMEZONE: 'UTC',
  SCHEDULE_FREQUENT_MINUTES: 15,
  ...o,
});

async function snapshot(q: Queue) {
  const schedulers = (await q.getJobSchedulers()).map((s) => ({ key: s.key, pattern: s.pattern, tz: s.tz, every: s.every, next: s.next, data: s.template?.data }));
  schedulers.sort((a, b) => a.key.localeCompare(b.key));
  const jobs = (await q.getJobs(['waiting', 'delayed', 'active'])).map((j) => j.id).sort();
  return { schedulers, jobs, counts: await q.getJobCounts('waiting', 'delayed', 'active') };
}

describe('job schedulers', () => {
  it('registers the nightly and frequent syncs once, however often the worker restarts', async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const first = await boot(prefix, async (q) => {
      await registerSyncSchedulers(q, env());
      return snapshot(q);
    });
    expect(first.schedulers).toEqual([
      { key: 'frequent', pattern: undefined, tz: undefined, every: 15 * 60_000, next: expect.any(Number), data: { trigger: 'frequent', streams: ['people', 'communication_channels', 'chat_messages'] } },
      { key: 'nightly', pattern: '0 3 * * *', tz: 'UTC', every: undefined, next: expect.any(Number), data: { trigger: 'nightly', reconcile: true } },
    ]);
    // Only the nightly sync reconciles (all-time list pass, rolling detail re-read); the frequent one stays cheap.
    expect(first.schedulers.find((s) => s.key === 'frequent')!.data).not.toHaveProperty('reconcile');
    const nightlyNext = new Date(first.schedulers[1]!.next!);
    expect(nightlyNext.getUTCHours()).toBe(3);
    expect(nightlyNext.getUTCMinutes()).toBe(0);
    expect(nightlyNext.getTime() - Date.now()).toBeLessThanOrEqual(24 * 3600_000);
    // One pending job per scheduler: the frequent one is due now, the nightly one later.
    expect(first.counts).toEqual({ waiting: 1, delayed: 1, active: 0 });

    for (let i = 0; i < 3; i++) {
      const again = await boot(prefix, async (q) => {
        await registerSyncSchedulers(q, env());
        return snapshot(q);
      });
      expect(again).toEqual(first);
    }
  });

  it('follows a changed configuration and removes the frequent sync when it is set to 0', async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    await boot(prefix, (q) => registerSyncSchedulers(q, env()));
    const changed = await boot(prefix, async (q) => {
      await registerSyncSchedulers(q, env({ SCHEDULE_NIGHTLY_CRON: '30 2 * * *', SCHEDULE_TIMEZONE: 'America/New_York', SCHEDULE_FREQUENT_MINUTES: 5 }));
      return snapshot(q);
    });
    expect(changed.schedulers.map((s) => [s.key, s.pattern ?? s.every, s.tz])).toEqual([
      ['frequent', 5 * 60_000, undefined],
      ['nightly', '30 2 * * *', 'America/New_York'],
    ]);
    const next = new Date(changed.schedulers[1]!.next!);
    const ny = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(next);
    expect(ny).toBe('02:30');
    expect((changed.counts.delayed ?? 0) + (changed.counts.waiting ?? 0)).toBe(2);

    const off = await boot(prefix, async (q) => {
      await registerSyncSchedulers(q, env({ SCHEDULE_FREQUENT_MINUTES: 0 }));
      return snapshot(q);
    });
    expect(off.schedulers.map((s) => s.key)).toEqual(['nightly']);
  });

  it('adds the optional periodic full sync when SCHEDULE_FULL_CRON is set, and removes it when unset', async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const on = await boot(prefix, async (q) => {
      await registerSyncSchedulers(q, { ...env(), SCHEDULE_FULL_CRON: '0 4 * * 0' });
      await registerSyncSchedulers(q, { ...env(), SCHEDULE_FULL_CRON: '0 4 * * 0' });
      return snapshot(q);
    });
    const full = on.schedulers.find((s) => s.key === 'full');
    expect(full).toMatchObject({ pattern: '0 4 * * 0', tz: 'UTC', data: { trigger: 'full', full: true } });
    expect(new Date(full!.next!).getUTCDay()).toBe(0);
    expect(on.schedulers.map((s) => s.key)).toEqual(['frequent', 'full', 'nightly']);
    const off = await boot(prefix, async (q) => {
      await registerSyncSchedulers(q, env());
      return snapshot(q);
    });
    expect(off.schedulers.map((s) => s.key)).toEqual(['frequent', 'nightly']);
    await expect(
      boot(prefix, (q) => registerSyncSchedulers(q, { ...env(), SCHEDULE_FULL_CRON: 'every sunday' })),
    ).rejects.toThrow(/SCHEDULE_FULL_CRON "every sunday"/);
  });

  it('reports an unusable cron as a configuration error', async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    await expect(boot(prefix, (q) => registerSyncSchedulers(q, env({ SCHEDULE_NIGHTLY_CRON: 'every night' })))).rejects.toThrow(ConfigError);
    await expect(boot(prefix, (q) => registerSyncSchedulers(q, env({ SCHEDULE_NIGHTLY_CRON: 'every night' })))).rejects.toThrow(/SCHEDULE_NIGHTLY_CRON "every night"/);
  });

  it('is what every worker boot does', async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const wenv = loadConfig({
      LEELOO_API_TOKEN: 'unused',
      LEELOO_API_URL: 'http://127.0.0.1:9',
      DATABASE_URL: db.path,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      SCHEDULE_FREQUENT_MINUTES: '0',
      LOG_LEVEL: 'silent',
    });
    for (let i = 0; i < 2; i++) {
      const rt = await startWorker({ env: wenv, logger: silentLogger, dashboard: false });
      await rt.ready;
      await rt.close(5000);
    }
    const after = await boot(prefix, snapshot);
    expect(after.schedulers.map((s) => s.key)).toEqual(['nightly']);
    expect(after.counts).toEqual({ waiting: 0, delayed: 1, active: 0 });
  });
});
