import { Command } from 'commander';
import { parseWhole, reportFatal } from './common.js';
import { existingMirrorUrl } from './mirror-file.js';

// readStatus lives apart so that defining this command (`--help`) loads no database driver.
export type { MirrorStatus } from './status-read.js';

export function statusCommand(): Command {
  return new Command('status')
    .description('show per-stream cursors and the last runs with their counts and errors')
    .option('--json', 'print JSON instead of tables')
    .option('--runs <n>', 'runs to show per stream', '3')
    .action(async (o: { json?: boolean; runs: string }) => {
      try {
        const runs = parseWhole('--runs', o.runs, { min: 1, max: 1_000_000 })!;
        const [url, { readStatus }, { loadConfig }] = await Promise.all([existingMirrorUrl(), import('./status-read.js'), import('../config.js')]);
        const env = loadConfig(process.env);
        const st = await readStatus(url, runs);
        if (o.json) {
          process.stdout.write(`${JSON.stringify(st, null, 2)}\n`);
          return;
        }
        process.stdout.write('Cursors\n');
        if (st.cursors.length === 0) process.stdout.write('  (none yet)\n');
        for (const c of st.cursors) {
          const ip = c.inProgress ? ` in progress: ${JSON.stringify(c.inProgress)}` : '';
          process.stdout.write(`  ${c.stream.padEnd(24)} ${c.cursor ?? '-'}${ip}\n`);
        }
        const rl = st.rateLimit;
        const mode = env.LEELOO_RATE_LIMIT === 'auto' ? `auto (max ${env.LEELOO_RATE_LIMIT_MAX}/s)` : `${env.LEELOO_RATE_LIMIT}/s fixed`;
        process.stdout.write(`\nRate limit: ${mode}\n`);
        if (!rl) process.stdout.write('  nothing learned yet\n');
        else {
          const learned = rl.ceiling === null ? 'no 429 seen yet' : `learned ${rl.ceiling}/s${rl.learnedAt ? ` (last 429 at ${rl.learnedAt})` : ''}`;
          process.stdout.write(`  current ${rl.rate}/s, ${learned}; stored ${rl.checkedAt}\n`);
        }
        process.stdout.write('\nLast runs\n');
        if (st.lastRuns.length === 0) process.stdout.write('  (none yet)\n');
        for (const r of st.lastRuns) {
          const err = r.error ? `  error: ${r.error}` : '';
          process.stdout.write(
            `  ${r.stream.padEnd(24)} ${r.status.padEnd(11)} ${r.startedAt}  +${r.rowsInserted} ~${r.rowsUpdated}  ${r.requests} req, ${r.retries} retries${err}\n`,
          );
        }
      } catch (err) {
        reportFatal(err);
      }
    });
}
