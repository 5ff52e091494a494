/**
 * The report's queries at 100k people (target: each ≤ 200 ms), over the rollups the page reads
 * and over the views themselves, and the time refreshDerivedViews takes to rewrite the rollups.
 * Syncing 100k people from the simulator takes minutes, so the mirror's base rows are written
 * straight from the simulator's generator (the same company a sync would mirror), with 2% of
 * the people, channels, messages and orders soft-deleted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMirror } from '../src/db/connection.js';
import { refreshDerivedViews } from '../src/db/views.js';
import { reportQueries, type ReportSource } from '../src/reports/data.js';
import { generateWorld } from '../src/sim/generate.js';
import { extrasOf, messagesOf } from '../src/sim/lazy.js';

export interface ViewsBench {
  people: number;
  messages: number;
  orders: number;
  buildMs: number;
  /** Worst of `runs` timings per report query, over the rollups the page reads and over the views themselves. */
  queries: Record<ReportSource, { name: string; maxMs: number; rows: number }[]>;
  /** Worst report query over the rollups. */
  maxMs: number;
  /** Rewriting the rollups from the views (refreshDerivedViews at the end of a sync). */
  refreshMs: number;
}

const iso = (t: number | string) => new Date(t).toISOString();

export function benchViews(people = 100_000, runs = 3, keep?: string): ViewsBench {
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'ls-bench-views-'));
  const mirror = openMirror(join(dir, 'mirror.db'));
  try {
    const started = performance.now();
    const now = Date.now();
    const w = generateWorld(7, people, now);
    const s = mirror.sqlite;
    const at = iso(now);
    const gone = (i: number) => (i % 50 === 7 ? at : null);
    const ins = {
      person: s.prepare('INSERT INTO people (id, name, email, phone, created_at, updated_at, last_message_time, tags, raw, synced_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      tag: s.prepare('INSERT OR IGNORE INTO person_tags (person_id, tag) VALUES (?, ?)'),
      field: s.prepare('INSERT INTO custom_fields (person_id, ordinal, name, type, value) VALUES (?, ?, ?, ?, ?)'),
      channel: s.prepare('INSERT INTO communication_channels (id, person_id, name, source, bot_status, last_message_time, created_at, utm_marks, raw, synced_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      message: s.prepare('INSERT INTO chat_messages (id, channel_id, text, type, read, created_at, updated_at, raw, synced_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      order: s.prepare('INSERT INTO orders (id, person_id, title, price, currency, status, created_at, updated_at, raw, synced_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
    };
    let messages = 0;
    s.transaction(() => {
      for (const p of w.people) {
        ins.person.run(p.id, p.name, p.email, p.phone, iso(p.createdAt), iso(p.updatedAt), iso(p.lmt), JSON.stringify(p.tags), '{}', at, gone(p.idx));
        for (const t of p.tags) ins.tag.run(p.id, t);
        extrasOf(w, p).customFields.forEach((f, i) => ins.field.run(p.id, i, f.name, f.type, f.value));
        for (const c of p.channels) {
          ins.channel.run(c.id, p.id, c.name, c.from, c.botStatus, iso(c.lmt), iso(c.createdAt), JSON.stringify(c.utmMarks), '{}', at, gone(c.idx));
          for (const m of messagesOf(w, c)) {
            ins.message.run(m.id, c.id, m.text, m.type, m.read ? 1 : 0, iso(m.createdAt), iso(m.updatedAt), '{}', at, gone(messages++));
          }
        }
      }
      for (const o of w.orders) ins.order.run(o.id, o.personId, o.title, o.price, o.currency, o.status, iso(o.createdAt), iso(o.updatedAt), '{}', at, gone(o.idx));
    })();
    s.exec('ANALYZE');
    const buildMs = Math.round(performance.now() - started);
    const refreshMs = refreshDerivedViews(mirror).rollupMs;
    const time = (from: ReportSource) =>
      Object.entries(reportQueries(from)).map(([name, q]) => {
        const stmt = s.prepare(q);
        let maxMs = 0;
        let rows = 0;
        for (let i = 0; i < runs; i++) {
          const t = performance.now();
          rows = stmt.all().length;
          maxMs = Math.max(maxMs, performance.now() - t);
        }
        return { name, maxMs: Math.round(maxMs), rows };
      });
    const queries = { rollups: time('rollups'), views: time('views') };
    return { people, messages, orders: w.orders.length, buildMs, queries, maxMs: Math.max(...queries.rollups.map((q) => q.maxMs)), refreshMs };
  } finally {
    mirror.close();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

// `node --import tsx bench/views.ts [people]` runs this part alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const r = benchViews(Number(process.argv[2] ?? 100_000), 3, process.argv[3]);
  console.log(JSON.stringify(r, null, 2));
}
