/**
 * Test-only worker process for the write queue, so a test can SIGKILL it mid-delivery:
 *   node --import tsx test/writes/worker-child.ts
 * Configured by the usual environment (DATABASE_URL, LEELOO_API_URL/TOKEN, REDIS_URL,
 * REDIS_PREFIX, LEELOO_RATE_LIMIT) with short locks, so a killed worker's jobs are taken over
 * within about two seconds. Prints "ready" once started; SIGTERM closes it.
 */
import { startWriteQueue } from '../../jobs/writes.js';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/db/store/index.js';
import { createClientFromEnv } from '../../src/leeloo/client.js';
import { createLogger } from '../../src/log.js';
import { createRedis } from '../../src/redis/connection.js';
import { sharedRateLimiter } from '../../src/redis/rate-limiter.js';

const env = loadConfig(process.env, { requireToken: true });
const logger = createLogger({ level: env.LOG_LEVEL, name: 'writes-child' });
const store = await openStore(env.DATABASE_URL);
// As in the worker: one API budget shared through Redis (with a local fallback while Redis is down).
const limiterRedis = createRedis(env.REDIS_URL, { name: 'rate-limiter', logger, failFast: true });
const rateLimiter = sharedRateLimiter(env, limiterRedis, logger);
const client = createClientFromEnv(env, { rateLimiter, logger });
const connection = createRedis(env.REDIS_URL, { name: 'writes', logger });

const h = await startWriteQueue({
  connection,
  prefix: env.REDIS_PREFIX,
  store,
  client,
  env,
  logger,
  concurrency: 8,
  pollMs: 100,
  reconcileMs: 1000,
  lockMs: 1500,
  stalledMs: 500,
  backoff: { baseMs: 100, maxMs: 1000 },
});
process.stdout.write('ready\n');

process.once('SIGTERM', () => {
  void (async () => {
    await h.close();
    await client.close();
    connection.disconnect();
    limiterRedis.disconnect();
    await store.close();
    process.exit(0);
  })();
});
