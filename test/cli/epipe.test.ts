import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { openMirror } from '../../src/db/connection.js';
import { BIN, outputOf } from '../helpers/cli.js';
import { tempDbPath } from '../helpers/mirror.js';

describe('output into a closed pipe', () => {
  const db = tempDbPath();
  afterAll(() => db.cleanup());

  it('`status | head -1` ends quietly with exit 0, no stack trace', async () => {
    const m = openMirror(db.path);
    const ins = m.sqlite.prepare("INSERT INTO sync_runs (run_id, stream, trigger, started_at, status, error) VALUES (?, 'people', 'cli', ?, 'failed', ?)");
    // Far more output than a pipe buffers, so writes go on after head has left.
    m.sqlite.transaction(() => {
      for (let i = 0; i < 4000; i++) ins.run(`run-${i}`, new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(), 'x'.repeat(80));
    })();
    m.close();
    const r = await outputOf(
      spawn('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" status --runs 5000 | head -1`], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.path, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expect(r).toEqual({ code: 0, stdout: 'Cursors\n', stderr: '' });
  }, 60_000);
});
