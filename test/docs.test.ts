import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { getTableConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import { ENV_VARS } from '../src/config.js';
import { MIGRATIONS_DIR } from '../src/db/connection.js';
import { migrateDatabase, readMigrations } from '../src/db/migrate.js';
import * as schema from '../src/db/schema.js';
import { STORE_RETRY_MESSAGE } from '../src/db/store/types.js';

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

describe('README.md, Choosing a backend', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('\n### Choosing a backend\n');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));

  it('quotes the log line of a deadlock retry as the store writes it', () => {
    expect(section.replace(/\s+/g, ' ')).toContain(`(\`${STORE_RETRY_MESSAGE}\`,`);
  });

  it('selects PostgreSQL by both URL schemes and names sslmode', () => {
    expect(start).toBeGreaterThan(-1);
    expect(section).toContain('DATABASE_URL=postgres://user:pass@host:5432/db');
    expect(section).toContain('`postgresql://`');
    expect(section).toContain('?sslmode=');
  });

  it('every PG* variable it names is one node-postgres reads for what the URL leaves out', () => {
    const named = [...new Set(section.match(/\bPG[A-Z]+\b/g))].sort();
    expect(named).toEqual(['PGDATABASE', 'PGHOST', 'PGPASSWORD', 'PGPORT', 'PGSSLMODE', 'PGUSER']);
    const value: Record<string, [string, (c: pg.Client) => unknown, unknown]> = {
      PGHOST: ['db.example', (c) => c.host, 'db.example'],
      PGPORT: ['6543', (c) => c.port, 6543],
      PGUSER: ['ada', (c) => c.user, 'ada'],
      PGPASSWORD: ['pw-from-env', (c) => c.password, 'pw-from-env'],
      PGDATABASE: ['mirror', (c) => c.database, 'mirror'],
      PGSSLMODE: ['require', (c) => Boolean(c.ssl), true],
    };
    const saved = Object.fromEntries(named.map((v) => [v, process.env[v]]));
    try {
      for (const v of named) {
        const [set, read, want] = value[v]!;
        for (const k of named) delete process.env[k];
        const without = read(new pg.Client({ connectionString: 'postgres://' }));
        process.env[v] = set;
        expect(read(new pg.Client({ connectionString: 'postgres://' })), v).toEqual(want);
        expect(without, v).not.toEqual(want);
      }
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('accounts for every command that opens the database', () => {
    const both = /Every command works on both: ([^.]*)\./.exec(section.replace(/\s+/g, ' '))?.[1] ?? '';
    for (const c of buildProgram().commands.map((x) => x.name())) {
      if (c === 'sim') continue; // the simulator opens no database
      if (c === 'demo') expect(section).toMatch(/`demo` is the\s+exception: it always writes a SQLite file/);
      else expect(both, c).toContain(`\`${c}\``);
    }
    expect(both).toContain('`worker`');
  });

  it('no sentence anywhere says a command refuses a PostgreSQL DATABASE_URL', () => {
    for (const file of ['../README.md', '../docs/schema.md', '../docs/benchmarks.md']) {
      const text = readFileSync(new URL(file, import.meta.url), 'utf8').replace(/\s+/g, ' ');
      expect(text, file).not.toMatch(/does not use yet|not yet used by the commands|refuses? a PostgreSQL `?DATABASE_URL|Not working yet/i);
    }
  });
});
