import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** Secrets registered here are replaced in every log line, whatever field they end up in. */
const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

export function scrub(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('[REDACTED]');
  }
  return out;
}

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
      dest.write(secrets.size > 0 ? scrub(line) : line);
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
