import { Command } from 'commander';
import { reportFatal } from './common.js';

export interface ReportCliOptions {
  out: string;
  range: string;
}

/**
 * Writes the reports page for the mirror `databaseUrl` names (a SQLite path or a postgres://
 * URL) to `out`; returns the absolute path. Shared by `report` and `demo`.
 */
export async function writeReport(databaseUrl: string, out: string, range: string): Promise<string> {
  // Loaded here, not at the top: `leeloo-sync --help` must not pay for the database (README "Development").
  const [{ existsSync, writeFileSync, mkdirSync }, { dirname, resolve }, { ConfigError }, { databaseKind, parseDatabaseUrl }, { openStore }, { parseRange, readReportData }, { renderReport }] = await Promise.all([
    import('node:fs'),
    import('node:path'),
    import('../errors.js'),
    import('../db/location.js'),
    import('../db/store/index.js'),
    import('../reports/data.js'),
    import('../reports/html.js'),
  ]);
  const r = parseRange(range);
  if (r === undefined) throw new ConfigError(`--range must be 7, 30, 90 or all, not "${range}"`);
  if (databaseKind(databaseUrl) === 'sqlite') {
    const parsed = parseDatabaseUrl(databaseUrl);
    if ('problem' in parsed) throw new ConfigError(`DATABASE_URL ${parsed.problem}`);
    if (parsed.path !== ':memory:' && !existsSync(parsed.path)) throw new ConfigError(`no mirror at ${parsed.path} yet: run \`leeloo-sync sync\` first`);
  }
  const store = await openStore(databaseUrl); // applies pending migrations, so the views exist
  let html: string;
  try {
    await store.refreshDerivedViews(); // current as of now, whatever the last sync left
    html = renderReport(await readReportData(store), { range: r });
  } finally {
    await store.close();
  }
  const path = resolve(out);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, html);
  return path;
}

export function reportCommand(): Command {
  return new Command('report')
    .description('write the reports page (charts from the analyst views; one self-contained HTML file that opens offline)')
    .option('--out <file>', 'HTML file to write', 'report.html')
    .option('--range <days>', 'range shown first: 7, 30, 90 or all (the page switches between them)', '30')
    .action(async (o: ReportCliOptions) => {
      try {
        const { loadConfig } = await import('../config.js');
        const path = await writeReport(loadConfig(process.env).DATABASE_URL, o.out, o.range);
        process.stdout.write(`${path}\n`);
      } catch (err) {
        reportFatal(err);
      }
    });
}
