/**
 * Test-only entry for the write-back commands, wired as src/cli/main.ts wires commands
 * (commander usage errors exit 2): node --import tsx test/writes/cli-entry.ts enqueue …
 */
import { Command } from 'commander';
import { usageExits } from '../../src/cli/common.js';
import { enqueueCommand } from '../../src/cli/enqueue.js';
import { outboxCommand } from '../../src/cli/outbox.js';

const program = new Command('leeloo-sync');
program.addCommand(enqueueCommand());
program.addCommand(outboxCommand());
await usageExits(program).parseAsync(process.argv);
