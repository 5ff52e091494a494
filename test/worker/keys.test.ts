import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { deletePrefix } from '../../src/redis/keys.js';
import { REDIS_URL, testPrefix } from './helpers.js';

describe('deletePrefix', () => {
  it('deletes the keys under the prefix and nothing else', async () => {
    const p = testPrefix();
    const r = new Redis(REDIS_URL);
    try {
      await r.mset(`${p}:a`, '1', `${p}:b:c`, '2', `${p}x:other`, '3');
      expect(await deletePrefix(REDIS_URL, p)).toBe(2);
      expect(await r.exists(`${p}:a`, `${p}:b:c`)).toBe(0);
      expect(await r.get(`${p}x:other`)).toBe('3');
    } finally {
      await r.del(`${p}x:other`);
      r.disconnect();
    }
  });
});
