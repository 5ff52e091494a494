import { parseRange, readReportData } from '../reports/data.js';
import { renderReport } from '../reports/html.js';
import { redact } from '../secrets.js';
import type { DashboardStore } from './store.js';

/**
 * The dashboard's /reports page: the same page `leeloo-sync report` writes, read from the
 * dashboard's mirror (its read-only store, src/dashboard/store.ts).
 */
export async function readReportPage(mirror: DashboardStore, range: string | undefined): Promise<string> {
  const got = await mirror.get();
  if ('absent' in got) throw new Error(`no mirror at ${got.absent} yet`);
  // Redacted as a whole, like the mirror page: a stream's error text is data from elsewhere.
  return redact(renderReport(await readReportData(got.store), { range: parseRange(range) ?? '30' }));
}
