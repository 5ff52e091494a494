/**
 * A sync child (bench/sync-child.mjs) that also counts and times every better-sqlite3
 * statement it runs, by SQL text, and prints the top 30 to stderr at exit. Used by
 * bench/statements.ts; the timing wraps each native call, so totals are inflated a little.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');
const probe = new Database(':memory:');
const proto = Object.getPrototypeOf(probe.prepare('SELECT 1'));
probe.close();
const stats = new Map();
for (const m of ['run', 'all', 'get', 'iterate']) {
  const orig = proto[m];
  proto[m] = function (...a) {
    const t = process.hrtime.bigint();
    try {
      return orig.apply(this, a);
    } finally {
      const k = this.source.slice(0, 100).replace(/\s+/g, ' ');
      const s = stats.get(k) ?? [0, 0n];
      s[0]++;
      s[1] += process.hrtime.bigint() - t;
      stats.set(k, s);
    }
  };
}
process.on('exit', () => {
  let n = 0, ns = 0n;
  for (const [, s] of stats) (n += s[0]), (ns += s[1]);
  process.stderr.write(`statements: ${n}, ${Number(ns / 1000000n)} ms inside them\n`);
  for (const [k, s] of [...stats].sort((a, b) => Number(b[1][1] - a[1][1])).slice(0, 30)) {
    process.stderr.write(`${String(s[0]).padStart(7)} ${String(Number(s[1] / 1000000n)).padStart(6)} ms  ${k}\n`);
  }
});
await import(process.env.SYNC_CHILD ?? new URL('./sync-child.mjs', import.meta.url).href);
