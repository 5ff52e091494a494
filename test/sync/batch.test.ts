import { describe, expect, it } from 'vitest';
import { openMirror } from '../../src/db/connection.js';
import { CommitBatcher } from '../../src/sync/batch.js';

describe('CommitBatcher', () => {
  it('commits concurrent writes together, each with its own result, and isolates a failing one', async () => {
    const m = openMirror(':memory:');
    const ins = m.sqlite.prepare("INSERT INTO tags (id, name, raw, synced_at) VALUES (?, ?, '{}', 'x')");
    const b = new CommitBatcher(m.sqlite, 64, 5);
    const ok1 = b.run(() => ins.run('a', 'A').changes);
    const bad = b.run(() => {
      ins.run('b', 'B');
      ins.run('a', 'dup'); // primary key violation: this write, and only this write, rolls back
    });
    const ok2 = b.run(() => ins.run('c', 'C').changes);
    await expect(ok1).resolves.toBe(1);
    await expect(bad).rejects.toThrow(/UNIQUE/);
    await expect(ok2).resolves.toBe(1);
    expect(m.sqlite.prepare('SELECT id FROM tags ORDER BY id').all()).toEqual([{ id: 'a' }, { id: 'c' }]);
  });

  it('flushes at the batch size without waiting for the timer', async () => {
    const m = openMirror(':memory:');
    const b = new CommitBatcher(m.sqlite, 2, 60_000);
    const started = Date.now();
    const r = await Promise.all([b.run(() => 1), b.run(() => 2)]);
    expect(r).toEqual([1, 2]);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
