import { deletePrefix } from '../../src/redis/keys.js';
import { randomUUID } from 'node:crypto';
import type { Store } from '../../src/db/store/types.js';
import type { Simulator } from '../../src/sim/index.js';
import { getWrite, type OutboxRow } from '../../src/writes/outbox.js';

export { freePort, PrivateRedis, REDIS_URL } from '../helpers/redis.js';

export function uniquePrefix(name: string): string {
  return `test-writes-${name}-${randomUUID().slice(0, 8)}`;
}

/** Deletes every key under `prefix` (BullMQ keys are `prefix:queue:…`). */
export async function cleanPrefix(url: string, prefix: string): Promise<void> {
  await deletePrefix(url, prefix);
}

type Maybe<T> = T | undefined | false | null;

export async function waitFor<T>(what: string, fn: () => Maybe<T> | Promise<Maybe<T>>, timeoutMs = 20_000, everyMs = 25): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false && v !== null) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const FINAL = new Set(['succeeded', 'failed', 'dead', 'ambiguous', 'cancelled']);

export function waitFinal(store: Store, id: number, timeoutMs = 20_000): Promise<OutboxRow> {
  return waitFor(`write #${id} to finish`, async () => {
    const r = await getWrite(store, id);
    return r && FINAL.has(r.status) ? r : undefined;
  }, timeoutMs);
}

export function writeCount(sim: Simulator, route: string, personOrTarget?: string): number {
  return sim.writeLog().filter((e) => e.route === route && (personOrTarget === undefined || e.params.id === personOrTarget)).length;
}


