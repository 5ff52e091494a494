import { mirrorAbsence } from './mirror.js';
import { parseRange, readReportData } from '../reports/data.js';
import { renderReport } from '../reports/html.js';
import { redact } from '../secrets.js';

/**
 * The dashboard's /reports page: the same page `leeloo-sync report` writes, read from the mirror
 * `databaseUrl` names (a SQLite path or a postgres:// URL), read-only.
 */
export async function readReportPage(databaseUrl: string, range: string | undefined): Promise<string> {
  const absent = mirrorAbsence(databaseUrl);
  if (absent !== undefined) throw new Error(`no mirror at ${absent} yet`);
  const { openStore } = await import('../db/store/index.js');
  const store = await openStore(databaseUrl, { migrate: false, readonly: true });
  try {
    // Redacted as a whole, like the mirror page: a stream's error text is data from elsewhere.
    return redact(renderReport(await readReportData(store), { range: parseRange(range) ?? '30' }));
  } finally {
    await store.close();
  }
}
