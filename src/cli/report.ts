import { Command } from 'commander';
import { reportFatal } from './common.js';

export interface ReportCliOptions {
  out: string;
  range: string;
}

/** Writes the reports page for the mirror at `dbPath` to `out`; returns the absolute path. Shared by `report` and `demo`. */
export async function writeReport(dbPath: string, out: string, range: string): Promise<string> {
  // Loaded here, not at the top: `leeloo-sync --help` must not pay for the database (README "Development").
  const [{ existsSync, writeFileSync, mkdirSync }, { dirname, resolve }, { ConfigError }, { openMirror }, { refreshDerivedViews }, { parseRange, readReportData }, { renderReport }] = await Promise.all([
    import('node:fs'),
    import('node:path'),
    import('../errors.js'),
    import('../db/connection.js'),
    import('../db/views.js'),
    import('../reports/data.js'),
    import('../reports/html.js'),
  ]);
  const r = parseRange(range);
  if (r === undefined) throw new ConfigError(`--range must be 7, 30, 90 or all, not "${range}"`);
  if (dbPath !== ':memory:' && !existsSync(dbPath)) throw new ConfigError(`no mirror at ${dbPath} yet: run \`leeloo-sync sync\` first`);
  const mirror = openMirror(dbPath); // applies pending migrations, so the views exist
  let html: string;
  try {
    refreshDerivedViews(mirror); // current as of now, whatever the last sync left
    html = renderReport(readReportData(mirror.sqlite), { range: r });
  } finally {
    mirror.close();
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
        const { loadConfig, sqlitePath } = await import('../config.js');
        const env = loadConfig(process.env);
        const path = await writeReport(sqlitePath(env.DATABASE_URL), o.out, o.range);
        process.stdout.write(`${path}\n`);
      } catch (err) {
        reportFatal(err);
      }
    });
}
