import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';

/*
 * Start-up: the CLI runs compiled JavaScript from dist/, and defining the commands loads no
 * heavy dependency, so `--help` costs little more than starting Node (bench/startup.ts times it;
 * this checks the cause, which timing on a shared machine cannot do reliably).
 */

// A module loader hook that reports every module the process loads.
const HOOK = `data:text/javascript,${encodeURIComponent(`
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
export async function load(url, context, next) {
  if (url.startsWith('file:')) process.stderr.write('LOADED ' + url + '\\\\n');
  return next(url, context);
}\`));
`)}`;

function loadedBy(args: string[]): { code: number | null; stdout: string; files: string[]; packages: string[] } {
  const r = spawnSync(process.execPath, ['--import', HOOK, BIN, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME } });
  const files = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('LOADED '))
    .map((l) => decodeURIComponent(new URL(l.slice('LOADED '.length)).pathname));
  const packages = [...new Set(files.map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)?.[1]).filter((p): p is string => p !== undefined))];
  return { code: r.status, stdout: r.stdout, files, packages };
}

describe('start-up', () => {
  it('runs the compiled dist/, transpiling nothing', () => {
    const r = loadedBy(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: leeloo-sync/);
    const own = r.files.filter((f) => !f.includes('/node_modules/'));
    expect(own.some((f) => f.endsWith('/dist/jobs/main.js'))).toBe(true);
    expect(own.filter((f) => f.endsWith('.ts'))).toEqual([]);
    expect(r.packages).not.toContain('tsx');
  });

  it('--help of the program and of every command loads commander and the command definitions only', () => {
    for (const args of [['--help'], ...['sync', 'status', 'demo', 'sim', 'worker', 'sync-now', 'enqueue', 'outbox', 'report'].map((c) => [c, '--help']), ['enqueue', 'add-tag', '--help']]) {
      const r = loadedBy(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(/^Usage: leeloo-sync/);
      expect(r.packages, args.join(' ')).toEqual(['commander']);
      // Nor any module of the engine, the API client, the database or the simulator.
      const own = r.files.filter((f) => !f.includes('/node_modules/')).map((f) => f.replace(/^.*\/dist\//, ''));
      expect(own.filter((f) => /^src\/(sync|leeloo|db|redis|dashboard|reports)\/|^src\/(config|log|metrics)\.js$|^src\/sim\/(?!cli|types)/.test(f)), args.join(' ')).toEqual([]);
    }
  });
});
