import { existsSync } from 'node:fs';
import { is, sql } from 'drizzle-orm';
import { getTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { readStatusFrom, type MirrorStatus } from '../cli/status-read.js';
import { databaseKind, parseDatabaseUrl } from '../db/location.js';
import * as schema from '../db/schema.js';
import type { Store } from '../db/store/types.js';
import { redact, redactDeep } from '../secrets.js';
import { lastSuccess } from '../sync/run-log.js';
import type { DashboardStore } from './store.js';

/** What the dashboard's mirror page shows: cursors, last runs, rows per table. */
export interface MirrorOverview {
  /** The SQLite file, or DATABASE_URL without its password. */
  path: string;
  exists: boolean;
  cursors: MirrorStatus['cursors'];
  lastRuns: MirrorStatus['lastRuns'];
  rowCounts: Record<string, number>;
  /** ISO end of the last successful run per stream. */
  lastSuccess: Record<string, string>;
}

/**
 * The SQLite file `databaseUrl` names when there is no mirror there yet (nothing to read, and
 * opening it read-only would fail); undefined when there may be one. A PostgreSQL database is
 * asked when it is opened: its read-only open refuses one that is not a mirror.
 */
export function mirrorAbsence(databaseUrl: string): string | undefined {
  if (databaseKind(databaseUrl) === 'postgres') return undefined;
  const parsed = parseDatabaseUrl(databaseUrl);
  const path = 'problem' in parsed ? databaseUrl : parsed.path;
  return path === ':memory:' || !existsSync(path) ? path : undefined;
}

/**
 * When each stream last succeeded, read through a shared read-only store (the worker's metrics ask
 * on every scrape: opening a store per scrape would cost an open and close each time). Nothing
 * while there is no mirror; a mirror that appears later is opened at the next scrape.
 */
export async function lastSuccessFrom(mirror: DashboardStore): Promise<Record<string, string>> {
  const got = await mirror.get();
  return 'absent' in got ? {} : lastSuccess(got.store);
}

// The mirror's tables are those of the schema (schema-pg.ts has the same ones): no catalog query
// per dialect, and neither backend's bookkeeping tables.
const TABLES = Object.values(schema)
  .flatMap((t) => (is(t, SQLiteTable) ? [getTableConfig(t).name] : []))
  .sort();

export async function rowCounts(store: Pick<Store, 'get'>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of TABLES) {
    try {
      // Names come from the schema, so quoting them is safe.
      out[name] = Number((await store.get<{ n: number }>(sql.raw(`SELECT count(*) AS n FROM "${name}"`)))?.n ?? 0);
    } catch {
      // A table a newer version added, read in a mirror no sync of that version has migrated yet.
    }
  }
  return out;
}

/** The overview of the dashboard's mirror (its read-only store, src/dashboard/store.ts). */
export async function readMirrorOverview(mirror: DashboardStore, runsPerStream = 3): Promise<MirrorOverview> {
  const got = await mirror.get();
  if ('absent' in got) return { path: got.absent, exists: false, cursors: [], lastRuns: [], rowCounts: {}, lastSuccess: {} };
  const { store } = got;
  const status = await readStatusFrom(store, runsPerStream);
  // The last fence before the browser: run errors and cursors come from the database, which
  // anyone may have written to (and an older version may have stored unredacted).
  return redactDeep({ path: store.location, exists: true, ...status, rowCounts: await rowCounts(store), lastSuccess: await lastSuccess(store) });
}

const esc = (v: unknown): string =>
  String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function table(headers: string[], rows: unknown[][]): string {
  if (rows.length === 0) return '<p class="none">(none yet)</p>';
  const head = headers.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** A plain HTML page: no scripts, no external assets, every value escaped. */
export function renderMirrorPage(o: MirrorOverview, links: { queues: string; metrics: string; json: string }): string {
  const sections = o.exists
    ? [
        '<h2>Rows per table</h2>',
        table(
          ['table', 'rows'],
          Object.entries(o.rowCounts).map(([t, n]) => [t, n]),
        ),
        '<h2>Stream cursors</h2>',
        table(
          ['stream', 'partition', 'cursor', 'in progress', 'updated'],
          o.cursors.map((c) => [c.stream, c.partition, c.cursor ?? '-', c.inProgress ? JSON.stringify(c.inProgress) : '', c.updatedAt]),
        ),
        '<h2>Last runs</h2>',
        table(
          ['stream', 'status', 'trigger', 'started', 'finished', 'inserted', 'updated', 'requests', 'retries', 'error'],
          o.lastRuns.map((r) => [r.stream, r.status, r.trigger ?? '', r.startedAt, r.finishedAt ?? '', r.rowsInserted, r.rowsUpdated, r.requests, r.retries, r.error ?? '']),
        ),
      ]
    : [`<p>No mirror at ${esc(o.path)} yet: the first sync creates it.</p>`];
  // Redacted again as a whole: secrets.ts also matches the HTML-escaped forms.
  return redact(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>leeloo-sync mirror</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin-bottom:1.5rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;font-size:.9rem;vertical-align:top}
th{background:#f3f3f3}.none{color:#777}nav a{margin-right:1rem}
</style></head>
<body>
<h1>leeloo-sync mirror</h1>
<nav><a href="${esc(links.queues)}">Queues</a><a href="${esc(links.metrics)}">Metrics</a><a href="${esc(links.json)}">JSON</a></nav>
<p>Database: <code>${esc(o.path)}</code></p>
${sections.join('\n')}
</body></html>
`);
}
