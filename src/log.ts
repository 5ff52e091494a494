import { pino, type Logger, type DestinationStream, type LogFn } from 'pino';
import { hasSecrets, redact, redactDeep } from './secrets.js';

export type { Logger };

// Redaction lives in secrets.ts; these names are kept for their callers.
export { registerSecret, redact as scrub } from './secrets.js';

export interface LoggerOptions {
  level?: string;
  destination?: DestinationStream;
  name?: string;
}

/**
 * pino JSON lines on stdout (or the given destination). Token-bearing header names are redacted
 * by path; every argument (message, fields, errors) is redacted of registered secrets before
 * pino escapes it, and every serialized line again as a second fence (secrets.ts matches the
 * JSON-escaped forms too).
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const dest: DestinationStream = opts.destination ?? pino.destination({ fd: 1, sync: false });
  const scrubbing: DestinationStream = {
    write(line: string) {
      dest.write(hasSecrets() ? redact(line) : line);
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
      hooks: {
        logMethod(args, method) {
          if (!hasSecrets()) return method.apply(this, args);
          return method.apply(this, args.map((a) => redactDeep(a)) as Parameters<LogFn>);
        },
      },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    scrubbing,
  );
}

/** A logger that writes nowhere; for library code called without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
