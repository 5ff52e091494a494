import { existsSync } from 'node:fs';
import { openMirror } from '../db/connection.js';
import { parseRange, readReportData } from '../reports/data.js';
import { renderReport } from '../reports/html.js';
import { redact } from '../secrets.js';

/** The dashboard's /reports page: the same page `leeloo-sync report` writes, read from the mirror read-only. */
export function readReportPage(path: string, range: string | undefined): string {
  if (path === ':memory:' || !existsSync(path)) throw new Error(`no mirror at ${path} yet`);
  const m = openMirror(path, { migrate: false, readonly: true });
  try {
    // Redacted as a whole, like the mirror page: a stream's error text is data from elsewhere.
    return redact(renderReport(readReportData(m.sqlite), { range: parseRange(range) ?? '30' }));
  } finally {
    m.close();
  }
}
