/**
 * vitest globalSetup. Tests that spawn the CLI run the compiled dist/ (bin/leeloo-sync.js), so a
 * source newer than the last build is compiled first: `npx vitest run test/…` right after an
 * edit tests the edit, not a stale build. `npm test` builds before vitest; then this finds
 * nothing to do.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const stamp = join(root, 'dist', '.tsbuildinfo');

function newestSource(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of ['src', 'jobs']) walk(join(root, d));
  for (const f of ['tsconfig.json', 'tsconfig.build.json', 'package.json']) newest = Math.max(newest, statSync(join(root, f)).mtimeMs);
  return newest;
}

export default function setup(): void {
  if (existsSync(stamp) && existsSync(join(root, 'dist', 'jobs', 'main.js')) && statSync(stamp).mtimeMs >= newestSource()) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  } catch (err) {
    // tsc still emits when types are wrong; `npm test` fails on them, a single test file need not.
    if (!existsSync(join(root, 'dist', 'jobs', 'main.js'))) throw err;
    process.stderr.write('build-dist: tsc reported type errors (see above); testing the emitted dist/ anyway\n');
  }
  // An incremental build with nothing to emit leaves the stamp as it was: mark it current.
  const now = new Date();
  if (existsSync(stamp)) utimesSync(stamp, now, now);
}
