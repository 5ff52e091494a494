/**
 * A sync child (bench/sync-child.mjs) that also counts the better-sqlite3 statements it runs
 * (run/all/get/iterate of prepared statements; the BEGIN/COMMIT of db.transaction are native and
 * not counted), for bench/scale.ts's "statements per answer". Counting only: one JS call and an
 * increment a statement, unlike bench/statements.mjs, which also times each one (its cost is
 * in docs/benchmarks.md, "Transport floor, session 16").
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');
const probe = new Database(':memory:');
const proto = Object.getPrototypeOf(probe.prepare('SELECT 1'));
probe.close();
let count = 0;
for (const m of ['run', 'all', 'get', 'iterate']) {
  const orig = proto[m];
  proto[m] = function (...a) {
    count++;
    return orig.apply(this, a);
  };
}
// Read by bench/sync-child.mjs when it prints its result.
globalThis.__benchStatements = () => count;
await import(new URL('./sync-child.mjs', import.meta.url).href);
