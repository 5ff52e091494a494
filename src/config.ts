import { isIP } from 'node:net';
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { databaseKind, databaseUrlProblem, parseDatabaseUrl, pgPasswords } from './db/location.js';
import { DEFAULT_BASE_URL, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_RETRIES, DEFAULT_PAGE_SIZE, DEFAULT_RATE_LIMIT_MAX, DEFAULT_TIMEOUT_MS } from './defaults.js';
import { ConfigError } from './errors.js';
import { registerSecret } from './log.js';
import { HEADER_SAFE } from './secrets.js';

/** A number in plain decimal digits (`digits`, else `message`), then checked by `range`. */
const decimalIn = (digits: RegExp, message: string, range: z.ZodNumber) => z.string().trim().regex(digits, message).transform(Number).pipe(range);

const intIn = (min: number, max: number) => decimalIn(/^-?\d+$/, 'must be a whole number', z.number().int().min(min).max(max));
const numIn = (min: number, max: number) => decimalIn(/^\d+(\.\d+)?$/, 'must be a number', z.number().min(min).max(max));

/** A share in 0..1 as a decimal (`0.143`) or a fraction (`1/7`). */
const share = z
  .string()
  .trim()
  .regex(/^(\d+(\.\d+)?|\d+\s*\/\s*[1-9]\d*)$/, 'must be a number from 0 to 1, as a decimal (0.14) or a fraction (1/7)')
  .transform((v) => {
    const [a, b] = v.split('/').map((x) => Number(x.trim()));
    return b === undefined ? (a as number) : (a as number) / b;
  })
  .pipe(z.number().min(0, 'must be from 0 to 1').max(1, 'must be from 0 to 1'));

/** `auto` (learn it: src/leeloo/aimd.ts) or a fixed number of requests per second. */
const rateLimit = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => v === 'auto' || (/^\d+(\.\d+)?$/.test(v) && Number(v) >= 0.1 && Number(v) <= 1_000_000), 'must be auto or a number of requests per second from 0.1 to 1000000')
  .transform((v): 'auto' | number => (v === 'auto' ? 'auto' : Number(v)));

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'].includes(v), 'must be true or false')
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const isoDay = z
  .string()
  .trim()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v), 'is not a real date');

/** A URL with one of `protocols` (`http:`). */
const urlOf = (protocols: readonly string[], message: string) =>
  z
    .string()
    .trim()
    .refine((v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, message);

const url = urlOf(['http:', 'https:'], 'must be an http(s) URL');
const redisUrl = urlOf(['redis:', 'rediss:'], 'must be a redis:// or rediss:// URL');

/**
 * A cron pattern as BullMQ's job scheduler reads it (with the same cron-parser): exactly five
 * fields, since cron-parser fills in a short pattern (`* * *` runs every minute) and reads a
 * sixth field as seconds, and no `@daily` aliases.
 */
export function cronProblem(pattern: string): string | undefined {
  const fields = pattern.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5) return `must be a cron pattern of exactly 5 fields (minute hour day-of-month month day-of-week), not ${fields.length}`;
  try {
    CronExpressionParser.parse(fields.join(' '), { tz: 'UTC' }).next();
    return undefined;
  } catch (err) {
    return `is not a valid cron pattern: ${err instanceof Error ? err.message : String(err)}`;
  }
}

const cron = z
  .string()
  .trim()
  .min(1)
  .superRefine((v, ctx) => {
    const problem = cronProblem(v);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

/**
 * Every environment variable leeloo-sync reads, with its default. README's configuration table
 * is checked against this list by a test.
 */
export const envSchema = z.object({
  LEELOO_API_URL: url.default(DEFAULT_BASE_URL),
  LEELOO_API_TOKEN: z
    .string()
    // Checked before the trim: a CR left by a CRLF env file means the file is not what it seems.
    .refine((v) => !/[\r\n]/.test(v), 'must not contain a line break (CR or LF)')
    .transform((v) => v.trim())
    .pipe(z.string().min(1, 'must not be empty').regex(HEADER_SAFE, 'may contain only printable Latin-1 characters (it is sent as an HTTP header)'))
    .optional(),
  LEELOO_TIMEOUT_MS: intIn(100, 600_000).default(DEFAULT_TIMEOUT_MS),
  LEELOO_MAX_RETRIES: intIn(0, 50).default(DEFAULT_MAX_RETRIES),
  LEELOO_RATE_LIMIT: rateLimit.default('auto'),
  LEELOO_RATE_LIMIT_MAX: numIn(1, 1_000_000).default(DEFAULT_RATE_LIMIT_MAX),
  LEELOO_PAGE_SIZE: intIn(1, 1000).default(DEFAULT_PAGE_SIZE),
  LEELOO_DATE_FORMAT: z.enum(['auto', 'datetime', 'date']).default('auto'),
  LEELOO_MAX_RESPONSE_BYTES: intIn(1024, 1024 * 1024 * 1024).default(DEFAULT_MAX_RESPONSE_BYTES),

  DATABASE_URL: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .default('./data/leeloo.db')
    .superRefine((v, ctx) => {
      const problem = databaseUrlProblem(v);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),

  SYNC_START_DATE: isoDay.default('2015-01-01'),
  SYNC_LOOKBACK_MINUTES: intIn(0, 60 * 24 * 30).default(60),
  SYNC_CONCURRENCY: intIn(1, 64).default(4),
  SYNC_WINDOW_MAX_ROWS: intIn(10, 1_000_000).default(5000),
  SYNC_CHAT_OVERLAP: intIn(0, 1000).default(5),
  SYNC_ACCOUNTS_V1: bool.default(false),
  SYNC_MAX_DELETE_SHARE: share.default(0.02),
  SYNC_RECONCILE_DETAIL_SHARE: share.default(1 / 7),

  REDIS_URL: redisUrl.default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9:_-]+$/, 'may contain only letters, digits, ":", "_" and "-"')
    .default('leeloo-sync'),
  SCHEDULE_NIGHTLY_CRON: cron.default('0 3 * * *'),
  SCHEDULE_TIMEZONE: z
    .string()
    .trim()
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'is not a known IANA time zone')
    .default('UTC'),
  SCHEDULE_FREQUENT_MINUTES: intIn(0, 24 * 60).default(15),
  SCHEDULE_FULL_CRON: cron.optional(),
  WORKER_SHUTDOWN_TIMEOUT_MS: intIn(1000, 600_000).default(30_000),
  WRITE_MAX_ATTEMPTS: intIn(1, 100).default(8),

  DASHBOARD_HOST: z.string().trim().min(1).default('127.0.0.1'),
  DASHBOARD_PORT: intIn(0, 65535).default(3000),
  DASHBOARD_USER: z.string().min(1).optional(),
  DASHBOARD_PASSWORD: z.string().min(1).optional(),
  DASHBOARD_ALLOWED_HOSTS: z
    .string()
    .trim()
    .default('')
    .transform((v) => v.split(',').map((h) => h.trim().toLowerCase().replace(/\.$/, '').replace(/^\[(.*)\]$/, '$1')).filter(Boolean))
    .refine((hosts) => hosts.every((h) => /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(h) || isIP(h) !== 0), 'must be a comma-separated list of host names'),

  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;
export const ENV_VARS = Object.keys(envSchema.shape) as (keyof Env)[];

export interface LoadOptions {
  /** The command talks to the Leeloo API, so LEELOO_API_TOKEN must be set. */
  requireToken?: boolean;
}

/**
 * Parses the environment in one pass and throws one ConfigError that lists every bad variable,
 * so a user fixes them all at once instead of one per run.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: LoadOptions = {}): Env {
  const input: Record<string, string> = {};
  for (const key of ENV_VARS) {
    const v = env[key];
    // An empty variable means "use the default", as in most twelve-factor tools.
    if (v !== undefined && v !== '') input[key] = v;
  }
  const parsed = envSchema.safeParse(input);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? 'environment');
      // Never echo the values: LEELOO_API_TOKEN and DASHBOARD_PASSWORD are secrets.
      problems.push(`${key} ${issue.message}`);
    }
  }
  if (opts.requireToken && !input.LEELOO_API_TOKEN?.trim()) {
    problems.push('LEELOO_API_TOKEN is required (the API token from Leeloo settings; sent as X-Leeloo-AuthToken)');
  }
  // Checked on the raw input, so it joins the schema's problems instead of waiting for them.
  if ((input.DASHBOARD_USER === undefined) !== (input.DASHBOARD_PASSWORD === undefined)) {
    problems.push('DASHBOARD_USER and DASHBOARD_PASSWORD must be set together');
  }
  if (problems.length > 0 || !parsed.success) {
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`, problems);
  }
  registerSecret(parsed.data.LEELOO_API_TOKEN);
  registerSecret(parsed.data.DASHBOARD_PASSWORD);
  for (const p of pgPasswords(parsed.data.DATABASE_URL)) registerSecret(p);
  return parsed.data;
}

/** `DATABASE_URL` is a SQLite file path, optionally written as `file:PATH` or `file:///PATH`. */
export function sqlitePath(databaseUrl: string): string {
  // Until the store seam (issue 10) lands, the sync, the worker and the CLI write SQLite only.
  if (databaseKind(databaseUrl) === 'postgres') throw new ConfigError('DATABASE_URL is a PostgreSQL URL, which this command does not use yet (README, Choosing a backend); give a SQLite file path');
  const parsed = parseDatabaseUrl(databaseUrl);
  if ('problem' in parsed) throw new ConfigError(`DATABASE_URL ${parsed.problem}`);
  return parsed.path;
}
