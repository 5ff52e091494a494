import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sanitizeColumnName, wideColumns, wideViewSql, MAX_COLUMN_LENGTH } from '../../src/db/views.js';
import type { Mirror } from '../../src/db/connection.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { tempDbPath } from '../helpers/mirror.js';
import { prepareViewsMirror, readBase, sqliteFixture, viewChecks, type ViewsFixture } from './views-checks.js';

describe('analyst views (SQLite)', () => {
  let sim: Simulator;
  let mirror: Mirror;
  const db = tempDbPath('ls-views-');
  const fx = {} as ViewsFixture;

  beforeAll(async () => {
    sim = await startSimulator({ seed: 21, people: 200 });
    mirror = await prepareViewsMirror(sim, db.path);
    const sqlite = sqliteFixture(mirror);
    Object.assign(fx, sqlite, { base: await readBase(sqlite.read) });
    const b = fx.base;
    expect(b.orders.some((o) => o.deleted_at) && b.messages.some((m) => m.deleted_at) && b.channels.some((c) => c.deleted_at)).toBe(true);
  }, 180_000);

  afterAll(async () => {
    mirror?.close();
    await sim?.close();
    db.cleanup();
  });

  viewChecks(fx);
});

describe('wide view column names', () => {
  it('sanitises: lowercase, non-alphanumerics to _, a prefix before a digit, a maximum length', () => {
    expect(sanitizeColumnName('City')).toBe('city');
    expect(sanitizeColumnName('a b')).toBe('a_b');
    expect(sanitizeColumnName('1st name')).toBe('f_1st_name');
    expect(sanitizeColumnName('  E-mail (work)!  ')).toBe('e_mail_work');
    expect(sanitizeColumnName('Café')).toBe('cafe');
    expect(sanitizeColumnName('x'.repeat(200)).length).toBe(MAX_COLUMN_LENGTH);
    expect(sanitizeColumnName('Город')).toBe('gorod');
    expect(sanitizeColumnName('Ціна')).toBe('tsina');
    expect(sanitizeColumnName('🎉')).toBe('field');
  });

  it('is collision-safe: _2, _3 …, never person_id, never over the maximum length', () => {
    const long = 'y'.repeat(100);
    const cols = wideColumns(['City', 'city', 'CITY', 'person_id', 'Person ID', 'a b', 'a_b', '1st name', long, `${long}!`, '🎉', '✨', 'Город']);
    expect(cols.map((c) => c.column)).toEqual([
      'city', 'city_2', 'city_3', 'person_id_2', 'person_id_3', 'a_b', 'a_b_2', 'f_1st_name',
      'y'.repeat(MAX_COLUMN_LENGTH), `${'y'.repeat(MAX_COLUMN_LENGTH - 2)}_2`, 'field', 'field_2', 'gorod',
    ]);
    const lower = cols.map((c) => c.column.toLowerCase());
    expect(new Set(lower).size).toBe(lower.length);
    for (const c of lower) expect(c.length).toBeLessThanOrEqual(MAX_COLUMN_LENGTH);
  });

  it('quotes names with quotes safely and gives the same SQL for the same set', () => {
    const sql = wideViewSql(["it's", 'b', 'a', 'b']);
    expect(sql).toBe(wideViewSql(['a', "it's", 'b']));
    expect(sql).toContain("cf.name = 'it''s'");
  });
});
