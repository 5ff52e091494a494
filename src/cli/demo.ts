import { Command } from 'commander';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../config.js';
import { openMirror } from '../db/connection.js';
import { createLogger } from '../log.js';
import { startSimulator } from '../sim/index.js';
import { EXIT_FAILED, parsePositiveInt, reportFatal } from './common.js';
import { printRunSummary, syncOnce } from './sync.js';

export const DEMO_QUERY = `SELECT c.source AS channel, count(DISTINCT c.person_id) AS people, count(m.id) AS messages,
       round(avg(o.price), 2) AS avg_order_price
FROM communication_channels c
LEFT JOIN chat_messages m ON m.channel_id = c.id
LEFT JOIN orders o ON o.person_id = c.person_id
GROUP BY c.source ORDER BY messages DESC`;

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
        const path = resolve(o.db);
        for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
        const sim = await startSimulator({ people, seed: 42 });
        try {
          process.stdout.write(`simulator: ${sim.url} (${people} people)\nmirror:    ${path}\n\n`);
          const env = loadConfig({ ...process.env, LEELOO_API_URL: sim.url, LEELOO_API_TOKEN: sim.token, DATABASE_URL: path }, { requireToken: true });
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
            process.stdout.write(`\nSample query: messages, people and average order price per messenger\n${DEMO_QUERY}\n\n`);
            console.table(m.sqlite.prepare(DEMO_QUERY).all());
          } finally {
            m.close();
          }
          if (!result.ok) process.exitCode = EXIT_FAILED;
        } finally {
          await sim.close();
        }
      } catch (err) {
        reportFatal(err);
      }
    });
}
