/**
 * PostgreSQL upsert rows/s through PgStore vs raw `pg` multi-row INSERTs of the same rows into a
 * scratch copy of the table (same columns, types and indexes), one transaction per page of 100 on
 * both sides; and the re-upsert of the same, unchanged rows against the same baseline.
 * Runs alone with `npx tsx bench/upsert-pg.ts [rows]`; PGURL picks the server (default: the local one).
 */
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { people } from '../src/db/schema.js';
import { openPgStore } from '../src/db/store/pg.js';
import { scratchDatabase } from './pg-scratch.js';
import { personRows } from './upsert.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface PgUpsertBench {
  rows: number;
  storeRowsPerSec: number;
  rawRowsPerSec: number;
  ratio: number;
  /** The same rows again, all unchanged, through the store. */
  reupsertRowsPerSec: number;
  reupsertRatio: number;
}

export async function benchUpsertPg(n = 50_000, page = 100, rounds = 3): Promise<PgUpsertBench> {
  const data = personRows(n);
  const pages: (typeof data)[] = [];
  for (let i = 0; i < data.length; i += page) pages.push(data.slice(i, i + page));
  const scratch = await scratchDatabase();
  const url = scratch.url;
  const store = await openPgStore(url, { poolSize: 2 });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE TABLE scratch (LIKE people INCLUDING ALL)');
    const cols = ['id', 'name', 'email', 'phone', 'tags', 'last_message_time', 'raw', 'synced_at'];
    const insertSql = (k: number) =>
      `INSERT INTO scratch (${cols.join(', ')}) VALUES ${Array.from({ length: k }, (_, r) => `(${cols.map((_, c) => `$${r * cols.length + c + 1}`).join(', ')})`).join(', ')}`;
    const runRaw = async () => {
      await client.query('TRUNCATE scratch');
      const t = performance.now();
      for (const part of pages) {
        await client.query('BEGIN');
        const values = part.flatMap((r) => [r.id, r.name, r.email, r.phone, r.tags, r.lastMessageTime, r.raw, r.syncedAt]);
        await client.query({ name: `raw_${part.length}`, text: insertSql(part.length), values });
        await client.query('COMMIT');
      }
      return (n / (performance.now() - t)) * 1000;
    };
    const runStore = async (fresh: boolean) => {
      if (fresh) await client.query('TRUNCATE people');
      const w = store.entities(people, { nullOnChange: ['detailsSyncedAt'] });
      const t = performance.now();
      let written = 0;
      for (const part of pages) {
        const r = await store.transaction(() => w.upsert(part));
        written += r.inserted + r.updated;
      }
      if (written !== (fresh ? n : 0)) throw new Error(`the store wrote ${written} of ${n} rows`);
      return (n / (performance.now() - t)) * 1000;
    };
    await runRaw(); // warm-up: plans, caches
    await runStore(true);
    const raw: number[] = [];
    const fresh: number[] = [];
    const again: number[] = [];
    for (let k = 0; k < rounds; k++) {
      raw.push(await runRaw());
      fresh.push(await runStore(true));
      again.push(await runStore(false));
    }
    const r = median(raw);
    const s = median(fresh);
    const a = median(again);
    return { rows: n, storeRowsPerSec: Math.round(s), rawRowsPerSec: Math.round(r), ratio: s / r, reupsertRowsPerSec: Math.round(a), reupsertRatio: a / r };
  } finally {
    await client.end();
    await store.close();
    await scratch.drop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const b = await benchUpsertPg(Number(process.argv[2]) || 50_000);
  console.log(`PostgreSQL upsert, ${b.rows} rows in pages of 100: PgStore ${b.storeRowsPerSec} rows/s vs raw pg multi-row INSERT ${b.rawRowsPerSec} rows/s = ${b.ratio.toFixed(2)} (target ≥ 0.70)`);
  console.log(`re-upsert of the same unchanged rows: ${b.reupsertRowsPerSec} rows/s = ${b.reupsertRatio.toFixed(2)} of the raw INSERT`);
}
