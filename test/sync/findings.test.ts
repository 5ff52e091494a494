import { mkdtempSync, rmSync } from 'node:fs';
import { SqliteStore } from '../../src/db/store/sqlite.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openMirror, type Mirror } from '../../src/db/connection.js';
import { FindingsStore } from '../../src/sync/findings.js';

describe('FindingsStore', () => {
  let dir: string;
  let mirror: Mirror;
  afterEach(() => {
    mirror?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores, replaces and reads findings; unreadable JSON counts as never checked', async () => {
    dir = mkdtempSync(join(tmpdir(), 'findings-'));
    mirror = openMirror(join(dir, 'm.db'));
    const store = new SqliteStore(mirror);
    let f = await FindingsStore.load(store);
    expect(f.get('date_filter')).toBeNull();
    await f.put('date_filter', { mode: 'date' }, 'probe', 'a person at T was missing from a window around T', new Date('2026-01-02T03:04:05Z'));
    expect(f.get<{ mode: string }>('date_filter')).toEqual({
      name: 'date_filter',
      value: { mode: 'date' },
      detail: 'a person at T was missing from a window around T',
      source: 'probe',
      checkedAt: '2026-01-02T03:04:05.000Z',
    });
    await f.put('date_filter', { mode: 'datetime' }, 'doctor');
    // Read once per run: a new load sees what was written, and skips what it cannot parse.
    expect((await FindingsStore.load(store)).get<{ mode: string }>('date_filter')?.value.mode).toBe('datetime');
    expect(f.get<{ mode: string }>('date_filter')?.value.mode).toBe('datetime');
    mirror.sqlite.prepare(`INSERT INTO api_findings (name, value, source, checked_at) VALUES ('broken', '{', 'x', 'y')`).run();
    f = await FindingsStore.load(store);
    expect(f.get('broken')).toBeNull();
    expect(f.all().map((x) => x.name)).toEqual(['date_filter']);
  });
});
