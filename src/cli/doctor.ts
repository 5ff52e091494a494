import { Command } from 'commander';
import { EXIT_FAILED, reportFatal } from './common.js';

/** Retries per doctor call: a flaky answer is retried, but the 100-request budget stays honest. */
const DOCTOR_RETRIES = 2;

export function doctorCommand(): Command {
  return new Command('doctor')
    .description('read-only check of the configured API (at most 100 GET requests): what it honours, and what the sync will do about it; stores the findings in the mirror')
    .option('--json', 'print one JSON object instead of the table')
    .action(async (o: { json?: boolean }) => {
      try {
        // Loaded here, not at the top: `--help` stays light (test/cli/startup.test.ts).
        const [{ default: pino }, { loadConfig }, { openStore }, { formatJson, formatTable }, { runDoctor }, { createClientFromEnv }, { createLogger }, { FindingsStore }] =
          await Promise.all([
            import('pino'),
            import('../config.js'),
            import('../db/store/index.js'),
            import('../doctor/report.js'),
            import('../doctor/run.js'),
            import('../leeloo/client.js'),
            import('../log.js'),
            import('../sync/findings.js'),
          ]);
        const env = loadConfig(process.env, { requireToken: true });
        // stdout carries the table or the JSON object; log lines go to stderr.
        const logger = createLogger({ level: process.env.LOG_LEVEL ? env.LOG_LEVEL : 'warn', destination: pino.destination({ fd: 2, sync: true }) });
        const counter = { requests: 0 };
        const retries = Math.min(env.LEELOO_MAX_RETRIES, DOCTOR_RETRIES);
        const client = createClientFromEnv(env, {
          logger,
          maxRetries: retries,
          onEvent: (e) => {
            if (e.type === 'request') counter.requests++;
          },
        });
        const store = await openStore(env.DATABASE_URL);
        try {
          const report = await runDoctor(client, env, await FindingsStore.load(store), counter, retries + 1);
          process.stdout.write(o.json ? formatJson(report) : formatTable(report));
          if (!report.ok) {
            const bad = report.checks.filter((c) => !c.ok);
            process.stderr.write(`leeloo-sync: doctor: not safe to sync: ${bad.map((c) => `${c.name}: ${c.detail}`).join('; ')}\n`);
            process.exitCode = EXIT_FAILED;
          }
        } finally {
          await client.close();
          await store.close();
        }
      } catch (err) {
        reportFatal(err);
      }
    });
}
