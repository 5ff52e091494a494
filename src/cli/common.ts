import { ConfigError } from '../errors.js';
import { redact as scrub } from '../secrets.js';

/** Exit codes: 0 ok, 1 the work failed, 2 bad input (configuration or arguments). */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

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

export function parseDay(option: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  const d = m ? new Date(`${value.trim()}T00:00:00.000Z`) : null;
  if (!d || Number.isNaN(d.getTime()) || !d.toISOString().startsWith(value.trim())) {
    throw new ConfigError(`${option} must be a date YYYY-MM-DD (got "${value}")`);
  }
  if (d.getTime() > Date.now()) throw new ConfigError(`${option} must not be in the future (got ${value})`);
  return d;
}

export function parsePositiveInt(option: string, value: string | undefined, max = 10_000_000): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || Number(value) > max) {
    throw new ConfigError(`${option} must be a whole number from 1 to ${max} (got "${value}")`);
  }
  return Number(value);
}
