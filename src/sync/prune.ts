import { sql } from 'drizzle-orm';
import type { Store } from '../db/store/types.js';

/** Keys per DELETE: well under SQLite's bound-variable limit and PostgreSQL's 65 535 parameters. */
const CHUNK = 500;

/**
 * Deletes rows of `table` whose key is not in `keep`: how a full refresh drops what the source no
 * longer lists. The stored keys are read and compared here, then only the missing ones are
 * deleted by key in chunks, instead of a giant `NOT IN (…)` that would hit the bound-variable
 * limits. Call it inside a transaction. Returns the number of rows deleted.
 */
export async function pruneMissing(store: Store, table: string, keyColumn: string, keep: Iterable<string>): Promise<number> {
  const kept = keep instanceof Set ? (keep as ReadonlySet<string>) : new Set(keep);
  const t = sql.identifier(table);
  const k = sql.identifier(keyColumn);
  const stored = await store.all<{ k: string }>(sql`SELECT ${k} AS k FROM ${t}`);
  const gone = stored.map((r) => r.k).filter((key) => !kept.has(key));
  let removed = 0;
  for (let i = 0; i < gone.length; i += CHUNK) {
    const part = gone.slice(i, i + CHUNK);
    removed += await store.run(sql`DELETE FROM ${t} WHERE ${k} IN (${sql.join(part.map((v) => sql`${v}`), sql`, `)})`);
  }
  return removed;
}
