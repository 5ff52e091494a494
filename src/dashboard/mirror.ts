import { existsSync } from 'node:fs';
import { readStatus, type MirrorStatus } from '../cli/status-read.js';
import { openMirror } from '../db/connection.js';
import { redact, redactDeep } from '../secrets.js';
import { lastSuccessByStream as lastSuccess } from '../sync/run-log.js';

/** What the dashboard's mirror page shows: cursors, last runs, rows per table. */
export interface MirrorOverview {
  path: string;
  exists: boolean;
  cursors: MirrorStatus['cursors'];
  lastRuns: MirrorStatus['lastRuns'];
  rowCounts: Record<string, number>;
  /** ISO end of the last successful run per stream. */
  lastSuccess: Record<string, string>;
}

function withReadonly<T>(path: string, fn: (m: ReturnType<typeof openMirror>) => T): T {
  const m = openMirror(path, { migrate: false, readonly: true });
  try {
    return fn(m);
  } finally {
    m.close();
  }
}

export function lastSuccessByStream(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  return withReadonly(path, (m) => lastSuccess(m.sqlite));
}

export function rowCounts(path: string): Record<string, number> {
  return withReadonly(path, (m) => {
    // Every table but SQLite's and drizzle's bookkeeping; names come from sqlite_master, so quoting them is safe.
    const tables = m.sqlite
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%' ORDER BY name`)
      .all() as { name: string }[];
    return Object.fromEntries(tables.map((t) => [t.name, (m.sqlite.prepare(`SELECT count(*) AS n FROM "${t.name.replace(/"/g, '""')}"`).get() as { n: number }).n]));
  });
}

export function readMirrorOverview(path: string, runsPerStream = 3): MirrorOverview {
  if (path === ':memory:' || !existsSync(path)) {
    return { path, exists: false, cursors: [], lastRuns: [], rowCounts: {}, lastSuccess: {} };
  }
  const status = readStatus(path, runsPerStream);
  // The last fence before the browser: run errors and cursors come from the database, which
  // anyone may have written to (and an older version may have stored unredacted).
  return redactDeep({ path, exists: true, ...status, rowCounts: rowCounts(path), lastSuccess: lastSuccessByStream(path) });
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
