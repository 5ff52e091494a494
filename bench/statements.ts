/**
 * How many SQL statements a full sync runs, and where their time goes (bench/statements.mjs),
 * for this tree's dist/ or another tree's (its bench/sync-child.mjs). Not part of `npm run bench`.
 * Usage: npx tsx bench/statements.ts [people=2000] [OTHER_TREE]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startSimProcess } from './sim-process.js';
import { childEnv } from './sync.js';

const people = Number(process.argv[2] ?? 2000);
const other = process.argv[3];
const dir = mkdtempSync(join(tmpdir(), 'ls-st-'));
const sim = await startSimProcess(['--people', String(people), '--seed', '42']);
try {
  await new Promise<void>((done, fail) => {
    const child = spawn(process.execPath, [new URL('./statements.mjs', import.meta.url).pathname], {
      env: {
        PATH: process.env.PATH ?? '',
        LOG_LEVEL: 'silent',
        ...childEnv(sim, join(dir, 'p.db'), other ? { SYNC_CHILD: pathToFileURL(join(resolve(other), 'bench/sync-child.mjs')).href } : {}),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`child exited ${code}`))));
  });
} finally {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
}
