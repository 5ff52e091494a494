import { sql } from 'drizzle-orm';
import { jsonFor } from '../db/pg-types.js';
import type { Store } from '../db/store/types.js';

/**
 * What leeloo-sync has learned about the API (table `api_findings`): doctor's checks, the first
 * sync's own probe, the learned rate limit. A finding is a named JSON value with the time it was
 * checked and one line saying what was observed. Writes are synchronous, so a finding can join
 * the transaction of the page that produced it. The table is small and only this run writes it
 * meanwhile, so it is read once (`FindingsStore.load`) and looked up in memory: the date guards
 * consult it for every window.
 */
export interface Finding<V> {
  name: string;
  value: V;
  detail: string | null;
  source: string;
  checkedAt: string;
}

interface FindingRow {
  name: string;
  value: string;
  detail: string | null;
  source: string;
  checked_at: string;
}

export class FindingsStore {
  private constructor(
    private readonly store: Store,
    private readonly rows: Map<string, FindingRow>,
  ) {}

  static async load(store: Store): Promise<FindingsStore> {
    const rows = await store.all<FindingRow>(sql`SELECT name, value, detail, source, checked_at FROM api_findings ORDER BY name`);
    return new FindingsStore(store, new Map(rows.map((r) => [r.name, r])));
  }

  /** A finding, or null when it has not been checked or its stored JSON is unreadable. */
  get<V>(name: string): Finding<V> | null {
    const row = this.rows.get(name);
    return row ? parseRow<V>(row) : null;
  }

  all(): Finding<unknown>[] {
    return [...this.rows.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).flatMap((r) => parseRow<unknown>(r) ?? []);
  }

  async put<V>(name: string, value: V, source: string, detail: string | null = null, checkedAt = new Date()): Promise<void> {
    const row: FindingRow = { name, value: jsonFor(this.store.dialect, JSON.stringify(value)), detail, source, checked_at: checkedAt.toISOString() };
    await this.store.run(
      sql`INSERT INTO api_findings (name, value, detail, source, checked_at) VALUES (${row.name}, ${row.value}, ${row.detail}, ${row.source}, ${row.checked_at})
       ON CONFLICT (name) DO UPDATE SET value = excluded.value, detail = excluded.detail, source = excluded.source, checked_at = excluded.checked_at`,
    );
    this.rows.set(name, row);
  }
}

function parseRow<V>(row: FindingRow): Finding<V> | null {
  let value: V;
  try {
    value = JSON.parse(row.value) as V;
  } catch {
    // Written by hand or by a broken tool: treat it as unchecked, so the check runs again.
    return null;
  }
  return { name: row.name, value, detail: row.detail, source: row.source, checkedAt: row.checked_at };
}
