import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { getTableConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import { ENV_VARS } from '../src/config.js';
import { MIGRATIONS_DIR } from '../src/db/connection.js';
import { migrateDatabase, readMigrations } from '../src/db/migrate.js';
import * as schema from '../src/db/schema.js';

const tables = Object.values(schema)
  .filter((v: unknown): v is SQLiteTable => typeof v === 'object' && v !== null && Symbol.for('drizzle:Name') in v)
  .map((t) => getTableConfig(t));

describe('docs/schema.md', () => {
  const doc = readFileSync(new URL('../docs/schema.md', import.meta.url), 'utf8');
  it('documents every table and every column', () => {
    expect(tables.length).toBeGreaterThan(15);
    for (const t of tables) {
      const start = doc.indexOf(`\n## ${t.name}\n`);
      expect(start, `table ${t.name}`).toBeGreaterThan(-1);
      const next = doc.indexOf('\n## ', start + 1);
      const section = doc.slice(start, next === -1 ? undefined : next);
      for (const c of t.columns) expect(section, `${t.name}.${c.name}`).toContain(`| \`${c.name}\` |`);
    }
  });
});

describe('docs/schema.md, views', () => {
  const doc = readFileSync(new URL('../docs/schema.md', import.meta.url), 'utf8');
  it('documents every view of a migrated database, column by column, with an example query', () => {
    const sqlite = new Database(':memory:');
    try {
      expect(migrateDatabase(sqlite, readMigrations(MIGRATIONS_DIR), ':memory:')).toBeUndefined();
      const views = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name").pluck().all() as string[];
      expect(views.length).toBeGreaterThanOrEqual(8);
      for (const v of views) {
        const start = doc.indexOf(`\n## ${v}\n`);
        expect(start, `view ${v}`).toBeGreaterThan(-1);
        const next = doc.indexOf('\n## ', start + 1);
        const section = doc.slice(start, next === -1 ? undefined : next);
        expect(section, `${v}: example query`).toMatch(/```sql\n[\s\S]*\b(SELECT|PRAGMA)\b[\s\S]*```/);
        // The generated wide view has only person_id before it is rebuilt from the data.
        for (const c of sqlite.prepare(`PRAGMA table_info(${v})`).all() as { name: string }[]) expect(section, `${v}.${c.name}`).toContain(`| \`${c.name}\` |`);
      }
    } finally {
      sqlite.close();
    }
  });
});

describe('README.md', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  it('has a configuration row for every environment variable', () => {
    for (const v of ENV_VARS) expect(readme, v).toContain(`| \`${v}\` |`);
  });
  it('names the test command that .ci/run runs', () => {
    const ci = readFileSync(new URL('../.ci/run', import.meta.url), 'utf8');
    expect(readme).toContain('npm test');
    expect(ci.trim().split('\n').at(-1)).toBe('npm test');
  });
});
