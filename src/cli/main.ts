import { Command } from 'commander';
import { simCommand } from '../sim/cli.js';
import { demoCommand } from './demo.js';
import { statusCommand } from './status.js';
import { syncCommand } from './sync.js';

const program = new Command('leeloo-sync')
  .description('Mirror a Leeloo.ai company into SQL and send write-backs to it.')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride((err) => {
    // commander's own usage errors (unknown option, missing argument) are bad input: exit 2.
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

program.addCommand(syncCommand());
program.addCommand(statusCommand());
program.addCommand(demoCommand());
program.addCommand(simCommand());

await program.parseAsync(process.argv);
