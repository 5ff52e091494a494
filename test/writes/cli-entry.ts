/**
 * Test-only entry for the write-back commands, wired as src/cli/main.ts wires commands
 * (commander usage errors exit 2): node --import tsx test/writes/cli-entry.ts enqueue …
 */
import { Command } from 'commander';
import { enqueueCommand, outboxCommand } from '../../src/writes/cli.js';

const program = new Command('leeloo-sync').exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
program.addCommand(enqueueCommand());
program.addCommand(outboxCommand());
await program.parseAsync(process.argv);
