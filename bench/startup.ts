import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/leeloo-sync.js', import.meta.url));

export interface StartupResult {
  runs: number;
  /** Median wall time of `node bin/leeloo-sync.js --help`. */
  helpMs: number;
  /** Median wall time of `node -e 0` in the same run: the floor of any Node CLI. */
  nodeMs: number;
  ratio: number;
}

function wallMs(args: string[]): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.toString().trim()}`);
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * Start-up of the CLI (the compiled dist/ that `npm run bench` builds first) against a bare
 * `node -e 0`, alternating the two so load on the machine hits both alike.
 */
export function benchStartup(runs = 11): StartupResult {
  wallMs(['-e', '0']); // warm the file cache
  wallMs([BIN, '--help']);
  const help: number[] = [];
  const node: number[] = [];
  for (let i = 0; i < runs; i++) {
    node.push(wallMs(['-e', '0']));
    help.push(wallMs([BIN, '--help']));
  }
  const helpMs = Math.round(median(help));
  const nodeMs = Math.round(median(node));
  return { runs, helpMs, nodeMs, ratio: median(help) / median(node) };
}
