import { Redis } from 'ioredis';
import type { Logger } from '../log.js';

/** The URL without its password, for log lines and error messages. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis://(unparseable URL)';
  }
}

/** 250 ms, 500 ms, 1 s … capped at 10 s: quick after a blip, gentle during a long outage. */
export function reconnectDelay(attempt: number): number {
  return Math.min(10_000, 250 * 2 ** Math.min(Math.max(attempt - 1, 0), 6));
}

export interface RedisConnectionOptions {
  /** Shown in CLIENT LIST and in log lines ("queue", "limiter", …). */
  name: string;
  logger: Logger;
  /**
   * Commands fail at once while disconnected instead of waiting for the reconnect. For callers
   * that have a fallback (the rate limiter) or a person waiting (sync-now).
   */
  failFast?: boolean;
  /** Called on every (re)connection after the first: a restarted Redis may have lost every key. */
  onReconnect?: () => void;
}

/**
 * An ioredis client that reconnects forever with backoff and says so once per outage, not once
 * per attempt. Worker-side clients keep `maxRetriesPerRequest: null` (BullMQ requires it for
 * blocking connections, and queued commands then wait for Redis instead of failing the job).
 */
export function createRedis(url: string, opts: RedisConnectionOptions): Redis {
  const where = redactRedisUrl(url);
  const log = opts.logger.child({ redis: where, connection: opts.name });
  let everReady = false;
  let down = false;
  let downSince = 0;
  const client = new Redis(url, {
    connectionName: `leeloo-sync:${opts.name}`,
    maxRetriesPerRequest: opts.failFast ? 0 : null,
    enableOfflineQueue: !opts.failFast,
    commandTimeout: opts.failFast ? 2000 : undefined,
    retryStrategy: reconnectDelay,
    // Without this the first connection attempt is a rejected promise nobody awaits.
    lazyConnect: false,
  });
  client.on('error', (err: Error) => {
    if (down) return;
    down = true;
    downSince = Date.now();
    log.warn({ err: err.message }, everReady ? 'Redis connection lost; reconnecting with backoff' : 'Redis unavailable; retrying with backoff');
  });
  client.on('reconnecting', (delayMs: number) => {
    log.debug({ delayMs }, 'reconnecting to Redis');
  });
  client.on('ready', () => {
    if (down) log.info({ downMs: Date.now() - downSince }, 'Redis connection restored');
    down = false;
    if (everReady) opts.onReconnect?.();
    everReady = true;
  });
  return client;
}

/** Resolves when the client is ready; rejects with the last connection error after `timeoutMs`. */
export function waitForRedis(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError = 'no answer';
    const onError = (err: Error) => {
      lastError = err.message || (err as NodeJS.ErrnoException).code || String(err);
    };
    const done = (err?: Error) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => done();
    const timer = setTimeout(() => done(new Error(lastError)), timeoutMs);
    client.on('ready', onReady);
    client.on('error', onError);
  });
}

/**
 * Races a Redis command against a timer. Worker-side clients queue commands while Redis is down
 * (they never fail on their own), so anything on a shutdown or scrape path needs a bound.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
