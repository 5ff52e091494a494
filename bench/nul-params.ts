/**
 * What NUL-free binding (src/db/pg-types.ts pgParameters, run on every statement PgStore sends)
 * costs on the hot path: the time it takes over the parameters of people pages (bench/upsert.ts
 * rows, 100 a page, as PgEntityWriter flattens them), against the time PgStore takes to upsert
 * the same pages into a scratch PostgreSQL database, in the same run; and the pages with a NUL in
 * every name (the rare path). Not part of `npm run bench`.
 * Usage: npx tsx bench/nul-params.ts [rows=20000] [rounds=5]; PGURL picks the server.
 */
import { people } from '../src/db/schema.js';
import { pgParameters } from '../src/db/pg-types.js';
import { openPgStore } from '../src/db/store/pg.js';
import { scratchDatabase } from './pg-scratch.js';
import { personRows } from './upsert.js';

const n = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const rows = personRows(n);
const pages: (typeof rows)[] = [];
for (let i = 0; i < rows.length; i += 100) pages.push(rows.slice(i, i + 100));
const flat = (part: typeof rows) => part.flatMap((r) => [r.id, r.name, r.email, r.phone, r.tags, r.lastMessageTime, r.raw, r.syncedAt]);
const params = pages.map(flat);
const nulParams = pages.map((part) => flat(part.map((r) => ({ ...r, name: `${r.name}\u0000` }))));

/** ms for pgParameters over every page's parameters, repeated `reps` times (the result kept, so it is not optimised away). */
function timeParams(sets: unknown[][], reps: number): number {
  let sink = 0;
  const t = performance.now();
  for (let k = 0; k < reps; k++) for (const v of sets) sink += pgParameters(v).length;
  const ms = performance.now() - t;
  if (sink !== reps * sets.length * 800) throw new Error('unexpected parameter count');
  return ms / reps;
}

const scratch = await scratchDatabase();
const store = await openPgStore(scratch.url, { poolSize: 2 });
try {
  const upsertMs: number[] = [];
  const paramMs: number[] = [];
  const nulMs: number[] = [];
  timeParams(params, 20); // warm-up (JIT)
  timeParams(nulParams, 5);
  for (let r = 0; r <= rounds; r++) {
    await store.run((await import('drizzle-orm')).sql`TRUNCATE people`);
    const w = store.entities(people, { nullOnChange: ['detailsSyncedAt'] });
    const t = performance.now();
    for (const part of pages) await store.transaction(() => w.upsert(part));
    const ms = performance.now() - t;
    const p = timeParams(params, 20);
    const q = timeParams(nulParams, 5);
    if (r === 0) continue; // warm-up round: plans, caches
    upsertMs.push(ms);
    paramMs.push(p);
    nulMs.push(q);
  }
  const [u, p, q] = [median(upsertMs), median(paramMs), median(nulMs)];
  const perPage = (ms: number) => `${((ms / pages.length) * 1000).toFixed(1)} µs/page`;
  console.log(`${n} people rows, ${pages.length} pages of 100 (800 parameters each), median of ${rounds} rounds`);
  console.log(`PgStore upsert (fresh rows, one transaction a page): ${u.toFixed(0)} ms, ${perPage(u)}`);
  console.log(`pgParameters, no NUL (the hot path): ${p.toFixed(2)} ms, ${perPage(p)} = ${((p / u) * 100).toFixed(3)}% of the upsert`);
  console.log(`pgParameters, a NUL in every name and raw: ${q.toFixed(2)} ms, ${perPage(q)} = ${((q / u) * 100).toFixed(3)}% of the upsert`);
} finally {
  await store.close();
  await scratch.drop();
}
