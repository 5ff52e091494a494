import { Redis } from 'ioredis';

/**
 * Deletes every key under `prefix:` (BullMQ's keys are `prefix:queue:…`, ours
 * `prefix:{locks}:…`) and nothing else: how tests and benchmarks leave a shared Redis as they
 * found it. SCAN, not KEYS, so a large Redis is not blocked.
 */
export async function deletePrefix(url: string, prefix: string): Promise<number> {
  const r = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  let deleted = 0;
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return deleted;
}
