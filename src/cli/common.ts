import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { redact as scrub } from '../secrets.js';
import { parseWhole } from './numbers.js';

/** Exit codes: 0 ok, 1 the work failed, 2 bad input (configuration or arguments). */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/**
 * commander's own usage errors (unknown option, missing argument) are bad input: exit 2, at every
 * level (addCommand does not pass settings on, so it walks the subcommands).
 */
export function usageExits(cmd: Command): Command {
  cmd.showHelpAfterError('(run with --help for usage)').exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE));
  for (const sub of cmd.commands) usageExits(sub);
  return cmd;
}

/** Prints one line, never a stack trace, and sets the exit code the error deserves. */
export function reportFatal(err: unknown): never {
  const usage = err instanceof ConfigError;
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`leeloo-sync: ${scrub(msg)}\n`);
  process.exit(usage ? EXIT_USAGE : EXIT_FAILED);
}

/** Async: the stream registry (and every stream module) is loaded only to name them in the error. */
export async function parseStreams(value: string | undefined): Promise<string[] | undefined> {
  if (value === undefined) return undefined;
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) {
    const { STREAM_NAMES } = await import('../sync/registry.js');
    throw new ConfigError(`--streams needs at least one stream name (known: ${STREAM_NAMES.join(', ')})`);
  }
  return names;
}

export { parseDay, parseDecimal, parseWhole } from './numbers.js';

export function parsePositiveInt(option: string, value: string | undefined, max = 10_000_000): number | undefined {
  return parseWhole(option, value, { min: 1, max });
}
