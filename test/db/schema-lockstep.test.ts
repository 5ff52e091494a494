import { readFileSync } from 'node:fs';
import { is, sql, type SQL } from 'drizzle-orm';
import { PgDialect, getTableConfig as pgConfig, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteConfig, SQLiteSyncDialect, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import * as pg from '../../src/db/schema-pg.js';
import * as lite from '../../src/db/schema.js';
import { jsonbText, toIsoTimestamp } from '../../src/db/schema-pg.js';
import { jsonFor, nulFree, pgParameters } from '../../src/db/pg-types.js';

interface Shape {
  columns: Record<string, { type: string; notNull: boolean; hasDefault: boolean }>;
  primaryKey: string[];
  indexes: Record<string, { columns: string[]; unique: boolean; where: string | null }>;
  checks: string[];
}

const liteDialect = new SQLiteSyncDialect();
const pgDialect = new PgDialect();

/**
 * A partial index's WHERE as both dialects can agree on it: parameters inlined (the wrapper's
 * inlineParams leaves the schema's own SQL untouched), identifier quotes and the table's own
 * qualifier dropped, booleans as the 0/1 SQLite stores, whitespace collapsed; string literals
 * are kept as written.
 */
function whereText(where: SQL | undefined, table: string, dialect: { sqlToQuery(q: SQL): { sql: string } }): string | null {
  if (!where) return null;
  const text = dialect.sqlToQuery(sql`${where}`.inlineParams()).sql;
  return text
    .split(/('(?:[^']|'')*')/)
    .map((part, i) =>
      i % 2 === 1
        ? part
        : part
            .replaceAll('"', '')
            .replaceAll(`${table}.`, '')
            .replace(/\btrue\b/gi, '1')
            .replace(/\bfalse\b/gi, '0')
            .replace(/\s+/g, ' '),
    )
    .join('')
    .trim();
}

function shapes(): { sqlite: Map<string, Shape>; pg: Map<string, Shape> } {
  const sqlite = new Map<string, Shape>();
  for (const t of Object.values(lite)) {
    if (!is(t, SQLiteTable)) continue;
    const c = sqliteConfig(t);
    sqlite.set(c.name, {
      columns: Object.fromEntries(c.columns.map((col) => [col.name, { type: col.getSQLType(), notNull: col.notNull, hasDefault: col.hasDefault }])),
      primaryKey: [...c.columns.filter((col) => col.primary).map((col) => col.name), ...c.primaryKeys.flatMap((pk) => pk.columns.map((col) => col.name))],
      indexes: Object.fromEntries(
        c.indexes.map((i) => [
          i.config.name,
          { columns: i.config.columns.map((col) => (col as { name: string }).name), unique: i.config.unique, where: whereText(i.config.where, c.name, liteDialect) },
        ]),
      ),
      checks: c.checks.map((k) => k.name).sort(),
    });
  }
  const out = new Map<string, Shape>();
  for (const t of Object.values(pg)) {
    if (!is(t, PgTable)) continue;
    const c = pgConfig(t);
    out.set(c.name, {
      columns: Object.fromEntries(c.columns.map((col) => [col.name, { type: col.getSQLType(), notNull: col.notNull, hasDefault: col.hasDefault || col.generatedIdentity !== undefined }])),
      primaryKey: [...c.columns.filter((col) => col.primary).map((col) => col.name), ...c.primaryKeys.flatMap((pk) => pk.columns.map((col) => col.name))],
      indexes: Object.fromEntries(
        c.indexes.map((i) => [
          i.config.name,
          { columns: i.config.columns.map((col) => (col as { name: string }).name), unique: i.config.unique, where: whereText(i.config.where, c.name, pgDialect) },
        ]),
      ),
      checks: c.checks.map((k) => k.name).sort(),
    });
  }
  return { sqlite, pg: out };
}

/** Which PostgreSQL types may stand for each SQLite type (docs/schema.md, "Types per backend"). */
const ALLOWED: Record<string, string[]> = {
  text: ['text', 'timestamp with time zone', 'jsonb', 'date'],
  integer: ['integer', 'boolean'],
  real: ['double precision'],
};
/** The PostgreSQL type a SQLite type gets when nothing is said: no note needed in docs/schema.md. */
const PLAIN: Record<string, string> = { text: 'text', integer: 'integer', real: 'double precision' };

describe('schema.ts and schema-pg.ts', () => {
  const { sqlite, pg: post } = shapes();

  it('have the same tables', () => {
    expect(sqlite.size).toBeGreaterThan(15);
    expect([...post.keys()].sort()).toEqual([...sqlite.keys()].sort());
  });

  it('have the same columns, nullability, defaults, keys, indexes (partial ones with the same WHERE) and checks', () => {
    for (const [name, s] of sqlite) {
      const p = post.get(name)!;
      expect(Object.keys(p.columns).sort(), `${name} columns`).toEqual(Object.keys(s.columns).sort());
      for (const [col, sc] of Object.entries(s.columns)) {
        const pc = p.columns[col]!;
        expect(pc.notNull, `${name}.${col} NOT NULL`).toBe(sc.notNull);
        expect(pc.hasDefault, `${name}.${col} default`).toBe(sc.hasDefault);
        expect(ALLOWED[sc.type], `${name}.${col}: SQLite ${sc.type}`).toContain(pc.type);
      }
      expect(p.primaryKey, `${name} primary key`).toEqual(s.primaryKey);
      expect(p.indexes, `${name} indexes`).toEqual(s.indexes);
      expect(p.checks, `${name} checks`).toEqual(s.checks);
    }
    // The comparison of WHEREs sees them (a drizzle that no longer exposed one would compare nulls).
    const partial = [...sqlite.values()].flatMap((s) => Object.values(s.indexes)).filter((i) => i.where !== null);
    expect(partial.length).toBeGreaterThan(0);
  });

  it('compare partial-index WHEREs across the dialects: quoting, qualifiers, booleans, parameters', () => {
    const t = lite.communicationChannels;
    const u = pg.communicationChannels;
    const liteWhere = whereText(sql`${t.deletedAt} IS NULL AND  ${t.source} = ${'a "b" TRUE'} AND x = ${true}`, 'communication_channels', liteDialect);
    const pgWhere = whereText(sql.raw(`deleted_at IS NULL AND source = 'a "b" TRUE' AND x = 1`), 'communication_channels', pgDialect);
    expect(liteWhere).toBe(`deleted_at IS NULL AND source = 'a "b" TRUE' AND x = 1`);
    expect(pgWhere).toBe(liteWhere);
    expect(whereText(sql`${u.deletedAt} IS NOT NULL`, 'communication_channels', pgDialect)).not.toBe(whereText(sql`${t.deletedAt} IS NULL`, 'communication_channels', liteDialect));
    expect(whereText(undefined, 'communication_channels', pgDialect)).toBeNull();
  });

  it('document in docs/schema.md every column whose PostgreSQL type is not the plain one', () => {
    const doc = readFileSync(new URL('../../docs/schema.md', import.meta.url), 'utf8');
    let noted = 0;
    for (const [name, s] of sqlite) {
      const start = doc.indexOf(`\n## ${name}\n`);
      const next = doc.indexOf('\n## ', start + 1);
      const section = doc.slice(start, next === -1 ? undefined : next);
      for (const [col, sc] of Object.entries(s.columns)) {
        const pgType = post.get(name)!.columns[col]!.type;
        const row = section.split('\n').find((l) => l.startsWith(`| \`${col}\` |`)) ?? '';
        const short = pgType === 'timestamp with time zone' ? 'timestamptz' : pgType;
        if (pgType !== PLAIN[sc.type]) {
          noted++;
          expect(row, `${name}.${col} is ${short} on PostgreSQL`).toMatch(new RegExp(`^\\| \`${col}\` \\| [^|]*\\(PG: ${short}\\)`));
        } else expect(row, `${name}.${col} has no PG note`).not.toContain('(PG:');
      }
    }
    expect(noted).toBeGreaterThan(50);
  });
});

describe('value conversions of the PostgreSQL types', () => {
  it('reads timestamptz output back as the ISO-8601 UTC text the SQLite mirror holds', () => {
    expect(toIsoTimestamp('2020-02-06 11:30:30.035+00')).toBe('2020-02-06T11:30:30.035Z');
    expect(toIsoTimestamp('2020-02-06 11:30:30+00')).toBe('2020-02-06T11:30:30.000Z');
    expect(toIsoTimestamp('2020-02-06 11:30:30.123456+00')).toBe('2020-02-06T11:30:30.123Z');
    expect(toIsoTimestamp('2020-02-06 14:30:30.5+03')).toBe('2020-02-06T11:30:30.500Z');
    expect(toIsoTimestamp('2020-02-06 06:00:30-05:30')).toBe('2020-02-06T11:30:30.000Z');
    expect(toIsoTimestamp('1883-11-18 12:03:58+00:03:58')).toBe('1883-11-18T12:00:00.000Z');
    expect(() => toIsoTimestamp('0044-03-15 12:00:00+00 BC')).toThrow(/not a PostgreSQL timestamptz/);
    expect(() => toIsoTimestamp('infinity')).toThrow(/not a PostgreSQL timestamptz/);
  });

  it('replaces only real \\u0000 escapes, which jsonb refuses', () => {
    expect(jsonbText('{"a":"x"}')).toBe('{"a":"x"}');
    expect(jsonbText(JSON.stringify({ a: 'x\0y' }))).toBe('{"a":"x\\ufffdy"}');
    // An escaped backslash followed by the letters u0000 is text, not a NUL.
    expect(jsonbText(JSON.stringify({ a: '\\u0000' }))).toBe(JSON.stringify({ a: '\\u0000' }));
    expect(jsonbText(JSON.stringify({ a: '\\\0' }))).toBe('{"a":"\\\\\\ufffd"}');
  });

  it('binds parameters NUL-free (pgParameters): U+0000 as U+FFFD in any string, nothing else touched', () => {
    const plain = ['a', 1, null, true, '{"a":"x"}', '2024-01-01T00:00:00.000Z'];
    // Nothing to change: the same array, no copy (the hot path).
    expect(pgParameters(plain)).toBe(plain);
    const given = ['x\0y\0', 7, 'C:\\u0000 is text', JSON.stringify({ a: 'x\0y' })];
    // The escape is not a NUL: a text column keeps it (jsonb columns go through jsonbText / jsonFor).
    expect(pgParameters(given)).toEqual(['x\ufffdy\ufffd', 7, 'C:\\u0000 is text', '{"a":"x\\u0000y"}']);
    // The caller's array is left as it was.
    expect(given[0]).toBe('x\0y\0');
    expect(nulFree('abc')).toBe('abc');
    expect(nulFree('\0a\0')).toBe('\ufffda\ufffd');
    expect(jsonFor('postgres', JSON.stringify({ a: 'x\0y' }))).toBe('{"a":"x\\ufffdy"}');
    expect(jsonFor('sqlite', JSON.stringify({ a: 'x\0y' }))).toBe('{"a":"x\\u0000y"}');
  });
});
