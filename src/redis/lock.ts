import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { withTimeout } from './connection.js';

/*
 * Per-stream locks: "one run of a stream at a time", across every worker process on every
 * machine that shares the Redis. A run takes the locks of all its streams at once (one Lua
 * script, all or nothing, so two runs with overlapping stream sets can never deadlock holding
 * half each), renews them while it runs, and releases only what it still owns.
 *
 * The value is "<token> <owner>": the random token proves ownership, the owner text tells a
 * person (or the dashboard) who holds it. Keys share a hash tag so the multi-key script also
 * works on a Redis Cluster.
 */

// KEYS: lock keys. ARGV[1]: value, ARGV[2]: ttl ms. Returns {} or a flat list {index, holder, …}.
const ACQUIRE = `
local held = {}
for i, k in ipairs(KEYS) do
  local v = redis.call('GET', k)
  if v and v ~= ARGV[1] then
    held[#held + 1] = i - 1
    held[#held + 1] = v
  end
end
if #held > 0 then return held end
for _, k in ipairs(KEYS) do redis.call('SET', k, ARGV[1], 'PX', ARGV[2]) end
return {}
`;

// Extends what we own; re-takes a key that vanished (a Redis restarted without persistence
// forgets every lock: nobody else can hold it yet, so taking it back keeps the guarantee).
// Returns the indexes of the keys another owner holds now.
const RENEW = `
local lost = {}
for i, k in ipairs(KEYS) do
  local v = redis.call('GET', k)
  if v == ARGV[1] then
    redis.call('PEXPIRE', k, ARGV[2])
  elseif not v then
    redis.call('SET', k, ARGV[1], 'PX', ARGV[2])
  else
    lost[#lost + 1] = i - 1
  end
end
return lost
`;

const RELEASE = `
local n = 0
for _, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then n = n + redis.call('DEL', k) end
end
return n
`;

export interface StreamLocksOptions {
  redis: Redis;
  /** REDIS_PREFIX. */
  prefix: string;
  /** How long a lock outlives a holder that died without releasing it. */
  ttlMs: number;
  logger: Logger;
}

export interface HeldLock {
  stream: string;
  /** The holder's description, e.g. "job 42 (nightly) on host:1234". */
  owner: string;
}

export type AcquireResult = { ok: true; lease: StreamLease } | { ok: false; held: HeldLock[] };

export class StreamLocks {
  /** Leases of this process still running, so a reconnect can re-assert them at once. */
  private readonly active = new Set<StreamLease>();

  constructor(private readonly opts: StreamLocksOptions) {
    if (!(opts.ttlMs >= 100)) throw new RangeError(`lock ttl must be at least 100 ms (got ${opts.ttlMs})`);
  }

  key(stream: string): string {
    return `${this.opts.prefix}:{locks}:stream:${stream}`;
  }

  /** Takes every stream's lock, or none of them and says who holds the busy ones. */
  async acquire(streams: string[], owner: string): Promise<AcquireResult> {
    const unique = [...new Set(streams)];
    const value = `${randomUUID()} ${owner.replace(/\s+/g, ' ')}`;
    const keys = unique.map((s) => this.key(s));
    const reply = (await this.opts.redis.eval(ACQUIRE, keys.length, ...keys, value, this.opts.ttlMs)) as (string | number)[];
    if (reply.length === 0) {
      const lease = new StreamLease(this.opts, unique, keys, value, () => this.active.delete(lease));
      this.active.add(lease);
      return { ok: true, lease };
    }
    const held: HeldLock[] = [];
    for (let i = 0; i < reply.length; i += 2) {
      const holder = String(reply[i + 1]);
      held.push({ stream: unique[Number(reply[i])]!, owner: holder.slice(holder.indexOf(' ') + 1) });
    }
    return { ok: false, held };
  }

  /**
   * Renews every running lease now. Called right after a reconnect, before anything can enqueue
   * new work: a Redis restarted without persistence forgot the locks, and waiting for the next
   * renewal tick would leave them open to another worker for up to a third of the TTL.
   */
  async renewAll(): Promise<void> {
    await Promise.all([...this.active].map((l) => l.renew()));
  }

  /** Who holds which stream now (for the dashboard and logs). */
  async holders(streams: string[]): Promise<HeldLock[]> {
    if (streams.length === 0) return [];
    const values = await this.opts.redis.mget(...streams.map((s) => this.key(s)));
    const out: HeldLock[] = [];
    values.forEach((v, i) => {
      if (v) out.push({ stream: streams[i]!, owner: v.slice(v.indexOf(' ') + 1) });
    });
    return out;
  }
}

/**
 * The locks of one run. Renewed every third of the TTL; when a renewal finds another owner
 * (we were presumed dead: e.g. the event loop stalled past the TTL) `onLost` fires so the run
 * stops after its current page. A renewal that cannot reach Redis is retried on the next tick:
 * while Redis is down nobody else can take the lock either.
 */
export class StreamLease {
  private timer: NodeJS.Timeout | undefined;
  private lostHandlers: ((streams: string[]) => void)[] = [];
  private released = false;
  lost: string[] = [];

  constructor(
    private readonly opts: StreamLocksOptions,
    readonly streams: string[],
    private readonly keys: string[],
    private readonly value: string,
    private readonly onRelease: () => void = () => {},
  ) {
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(opts.ttlMs / 3)));
    this.timer.unref();
  }

  onLost(fn: (streams: string[]) => void): void {
    this.lostHandlers.push(fn);
  }

  /** One renewal now; also run by the timer. Returns the streams another owner holds. */
  async renew(): Promise<string[]> {
    if (this.released) return [];
    try {
      const lost = (await this.opts.redis.eval(RENEW, this.keys.length, ...this.keys, this.value, this.opts.ttlMs)) as number[];
      if (lost.length > 0 && !this.released) {
        const names = lost.map((i) => this.streams[i]!);
        this.lost = [...new Set([...this.lost, ...names])];
        this.opts.logger.error({ streams: names }, 'stream lock taken over by another run; stopping after the current page');
        for (const fn of this.lostHandlers) fn(names);
      }
      return lost.map((i) => this.streams[i]!);
    } catch (err) {
      this.opts.logger.debug({ err: errorMessage(err) }, 'stream lock renewal failed; retrying on the next tick');
      return [];
    }
  }

  /** Deletes the locks this lease still owns. Never throws: a lock left behind expires by itself. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    this.onRelease();
    try {
      await withTimeout(this.opts.redis.eval(RELEASE, this.keys.length, ...this.keys, this.value), 2000, 'releasing stream locks');
    } catch (err) {
      this.opts.logger.warn({ err: errorMessage(err), streams: this.streams }, `could not release stream locks; they expire in ${this.opts.ttlMs} ms`);
    }
  }
}
