import { mkdtempSync, rmSync } from 'node:fs';
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

  it('stores, replaces and reads findings; unreadable JSON counts as never checked', () => {
    dir = mkdtempSync(join(tmpdir(), 'findings-'));
    mirror = openMirror(join(dir, 'm.db'));
    const f = new FindingsStore(mirror.sqlite);
    expect(f.get('date_filter')).toBeNull();
    f.put('date_filter', { mode: 'date' }, 'probe', 'a person at T was missing from a window around T', new Date('2026-01-02T03:04:05Z'));
    expect(f.get<{ mode: string }>('date_filter')).toEqual({
      name: 'date_filter',
      value: { mode: 'date' },
      detail: 'a person at T was missing from a window around T',
      source: 'probe',
      checkedAt: '2026-01-02T03:04:05.000Z',
    });
    f.put('date_filter', { mode: 'datetime' }, 'doctor');
    expect(f.get<{ mode: string }>('date_filter')?.value.mode).toBe('datetime');
    mirror.sqlite.prepare(`INSERT INTO api_findings (name, value, source, checked_at) VALUES ('broken', '{', 'x', 'y')`).run();
    expect(f.get('broken')).toBeNull();
    expect(f.all().map((x) => x.name)).toEqual(['date_filter']);
  });
});
