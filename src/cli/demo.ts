import { Command } from 'commander';
import { rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { EXIT_FAILED, parsePositiveInt, reportFatal } from './common.js';
import { printRunSummary, syncOnce } from './sync.js';

export const DEMO_QUERY = `WITH msgs AS (SELECT channel_id, count(*) AS n FROM chat_messages GROUP BY channel_id),
     buyers AS (SELECT DISTINCT person_id FROM orders)
SELECT c.source AS messenger,
       count(*) AS channels,
       sum(coalesce(m.n, 0)) AS messages,
       round(100.0 * count(DISTINCT b.person_id) / count(DISTINCT c.person_id), 1) AS pct_people_with_orders
FROM communication_channels c
LEFT JOIN msgs m ON m.channel_id = c.id
LEFT JOIN buyers b ON b.person_id = c.person_id
GROUP BY c.source
ORDER BY messages DESC`;

/**
 * The README demo: the simulator, a fresh SQLite file and the main sync job, all in-process;
 * no Redis and no credentials.
 */
export function demoCommand(): Command {
  return new Command('demo')
    .description('start the simulator, sync a small company into a fresh SQLite file and show what landed')
    .option('--people <n>', 'people in the simulated company', '300')
    .option('--db <path>', 'SQLite file to (re)create', './data/demo.db')
    .action(async (o: { people: string; db: string }) => {
      try {
        const people = parsePositiveInt('--people', o.people, 1_000_000)!;
        const [{ loadConfig }, { assertReplaceable, openMirror }, { createLogger }, { startSimulator }] = await Promise.all([
          import('../config.js'),
          import('../db/connection.js'),
          import('../log.js'),
          import('../sim/index.js'),
        ]);
        const path = resolve(o.db);
        assertReplaceable(path); // --db of another program's file: refused, not deleted
        for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
        const sim = await startSimulator({ people, seed: 42 });
        try {
          process.stdout.write(`simulator: ${sim.url} (${people} people)\nmirror:    ${path}\n\n`);
          // The simulator has no rate limit; the default 10 requests/s is meant for the real API.
          const env = loadConfig(
            { LEELOO_RATE_LIMIT: '500', SYNC_CONCURRENCY: '8', ...process.env, LEELOO_API_URL: sim.url, LEELOO_API_TOKEN: sim.token, DATABASE_URL: path },
            { requireToken: true },
          );
          const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
          const started = Date.now();
          const result = await syncOnce(env, logger, { trigger: 'demo', tty: Boolean(process.stderr.isTTY) });
          printRunSummary(result);
          process.stdout.write(`\nsynced in ${((Date.now() - started) / 1000).toFixed(1)}s\n\n`);
          const m = openMirror(path, { migrate: false });
          try {
            process.stdout.write('Rows per table\n');
            const tables = m.sqlite
              .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_\\_%' ESCAPE '\\' ORDER BY name")
              .all() as { name: string }[];
            for (const { name } of tables) {
              const { n } = m.sqlite.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number };
              process.stdout.write(`  ${name.padEnd(26)} ${n}\n`);
            }
            process.stdout.write(`\nSample query: channels, messages and the share of people who ordered, per messenger\n${DEMO_QUERY}\n\n`);
            console.table(m.sqlite.prepare(DEMO_QUERY).all());
          } finally {
            m.close();
          }
          const { writeReport } = await import('./report.js');
          const report = await writeReport(path, resolve(dirname(path), 'demo-report.html'), '30');
          process.stdout.write(`\nreport:    ${report}\n`);
          if (!result.ok) process.exitCode = EXIT_FAILED;
        } finally {
          await sim.close();
        }
      } catch (err) {
        reportFatal(err);
      }
    });
}
