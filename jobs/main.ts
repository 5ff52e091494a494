import { buildProgram, runCli } from '../src/cli/main.js';
import { syncNowCommand, workerCommand } from './commands.js';

// The composition root: the queue-free CLI from src/ plus the commands that need BullMQ.
const program = buildProgram();
program.addCommand(workerCommand());
program.addCommand(syncNowCommand());
await runCli(program);
