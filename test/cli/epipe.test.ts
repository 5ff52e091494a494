import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { openMirror } from '../../src/db/connection.js';
import { BIN } from '../helpers/cli.js';
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
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" status --runs 5000 | head -1`], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.path, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(r).toEqual({ code: 0, stdout: 'Cursors\n', stderr: '' });
  }, 60_000);
});
