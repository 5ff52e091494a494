import { pino, type Logger, type DestinationStream } from 'pino';
import { hasSecrets, scrub } from './secrets.js';

export type { Logger };
// Re-exported: the secrets live in a module of their own so the CLI's error path needs no pino.
export { registerSecret, scrub } from './secrets.js';

export interface LoggerOptions {
  level?: string;
  destination?: DestinationStream;
  name?: string;
}

/**
 * pino JSON lines on stdout (or the given destination). Token-bearing header names are redacted
 * by path, and every serialized line is scrubbed of registered secrets as a second fence.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const dest: DestinationStream = opts.destination ?? pino.destination({ fd: 1, sync: false });
  const scrubbing: DestinationStream = {
    write(line: string) {
      dest.write(hasSecrets() ? scrub(line) : line);
    },
  };
  return pino(
    {
      level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
      name: opts.name ?? 'leeloo-sync',
      redact: {
        paths: [
          'token',
          'headers["x-leeloo-authtoken"]',
          'headers["X-Leeloo-AuthToken"]',
          '*.headers["x-leeloo-authtoken"]',
          '*.headers["X-Leeloo-AuthToken"]',
          'config.token',
          'config.apiToken',
        ],
        censor: '[REDACTED]',
      },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    scrubbing,
  );
}

/** A logger that writes nowhere; for library code called without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
