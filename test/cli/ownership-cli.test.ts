import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, openMirror } from '../../src/db/connection.js';
import { readMigrations } from '../../src/db/migrate.js';
import { foreignFiles, sha } from '../helpers/db-files.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ls-own-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PERSON = '5e1c4676b70fb2001279c268';
/** Every command that opens the database, with what it needs to get that far. */
const COMMANDS: { name: string; args: string[]; db?: 'flag' }[] = [
  { name: 'sync', args: ['sync', '--streams', 'tags'] },
  { name: 'status', args: ['status'] },
  { name: 'outbox', args: ['outbox', 'list'] },
  { name: 'enqueue', args: ['enqueue', 'add-comment', '--person', PERSON, '--text', 'hi'] },
  { name: 'worker', args: ['worker'] },
  { name: 'demo', args: ['demo', '--people', '5'], db: 'flag' },
];

const env = (db: string) => ({
  DATABASE_URL: db,
  LEELOO_API_TOKEN: 'never-sent',
  // Nothing listens here: no command may get as far as the API or Redis.
  LEELOO_API_URL: 'http://127.0.0.1:9',
  REDIS_URL: 'redis://127.0.0.1:9',
  DASHBOARD_PORT: '0',
});

const run = (c: (typeof COMMANDS)[number], path: string) => runCli(c.db === 'flag' ? [...c.args, '--db', path] : c.args, env(path), { timeoutMs: 90_000 });

describe('every command refuses a database that is not ours, leaving it byte-identical', () => {
  const files = foreignFiles(dir).filter((f) => /another program|random bytes/.test(f.name));

  for (const c of COMMANDS) {
    it(c.name, async () => {
      const before = files.map((f) => sha(f.path));
      const listing = readdirSync(dir).sort();
      const results = await Promise.all(files.map((f) => run(c, f.path)));
      for (const [i, f] of files.entries()) {
        const r = results[i]!;
        expect(r.code, `${c.name} on ${f.name}: ${r.stderr}`).toBe(2);
        expect(r.stderr.trimEnd().split('\n'), f.name).toHaveLength(1);
        expect(r.stderr, f.name).toMatch(new RegExp(`^leeloo-sync: DATABASE_URL: ${f.path} is not a leeloo-sync database \\(`));
        expect(r.stderr, f.name).toMatch(f.reason);
        expect(sha(f.path), f.name).toBe(before[i]);
        expect(readdirSync(dir).sort(), f.name).toEqual(listing);
      }
    }, 120_000);
  }

  it('and a database written by a newer leeloo-sync', async () => {
    const path = join(dir, 'newer.db');
    openMirror(path).close();
    const s = new Database(path);
    s.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('e'.repeat(64), Date.UTC(2032, 5, 1));
    s.close();
    const commands = COMMANDS.filter((x) => x.db !== 'flag');
    const results = await Promise.all(commands.map((c) => run(c, path)));
    for (const [i, c] of commands.entries()) {
      const r = results[i]!;
      expect(r.code, `${c.name}: ${r.stderr}`).toBe(2);
      expect(r.stderr, c.name).toMatch(/database was written by a newer leeloo-sync \(migration 2032-06-01T00:00:00\.000Z eeeeeeeeeeee\); upgrade leeloo-sync\n$/);
    }
    const s2 = new Database(path, { readonly: true });
    expect(s2.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get()).toEqual({ n: readMigrations(MIGRATIONS_DIR).migrations.length + 1 });
    s2.close();
  }, 120_000);
});
