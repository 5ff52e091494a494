import { buildProgram, runCli } from '../src/cli/main.js';

const program = buildProgram();
await runCli(program);
