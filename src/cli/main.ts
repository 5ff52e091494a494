import { Command } from 'commander';
import { usageExits } from './common.js';
import { demoCommand } from './demo.js';
import { doctorCommand } from './doctor.js';
import { enqueueCommand } from './enqueue.js';
import { outboxCommand } from './outbox.js';
import { simCommand } from './sim.js';
import { reportCommand } from './report.js';
import { statusCommand } from './status.js';
import { syncCommand } from './sync.js';

/**
 * The commands that need no queue. jobs/main.ts (the composition root, the only code that
 * imports bullmq) adds the worker and queue commands and runs the program.
 */
export function buildProgram(): Command {
  const program = new Command('leeloo-sync').description('Mirror a Leeloo.ai company into SQL and send write-backs to it.');
  program.addCommand(syncCommand());
  program.addCommand(statusCommand());
  program.addCommand(doctorCommand());
  program.addCommand(demoCommand());
  program.addCommand(enqueueCommand());
  program.addCommand(outboxCommand());
  program.addCommand(simCommand());
  program.addCommand(reportCommand());
  return program;
}

/**
 * `leeloo-sync status | head -1`: the reader is gone after one line, and the next write fails
 * with EPIPE. Nobody is left to read the rest, so that is a quiet, successful end.
 */
function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

export async function runCli(program: Command, argv: string[] = process.argv): Promise<void> {
  quietOnClosedPipe(process.stdout);
  // Applied last, so commands added by jobs/ get it too (addCommand does not inherit settings).
  usageExits(program);
  await program.parseAsync(argv);
}
