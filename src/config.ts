import { z } from 'zod';
import { ConfigError } from './errors.js';
import { registerSecret } from './log.js';

const intIn = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const numIn = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, 'must be a number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));

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

const url = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL');

const redisUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'redis:' || u.protocol === 'rediss:';
    } catch {
      return false;
    }
  }, 'must be a redis:// or rediss:// URL');

/**
 * Every environment variable leeloo-sync reads, with its default. README's configuration table
 * is checked against this list by a test.
 */
export const envSchema = z.object({
  LEELOO_API_URL: url.default('https://api.leeloo.ai'),
  LEELOO_API_TOKEN: z.string().trim().min(1, 'must not be empty').optional(),
  LEELOO_TIMEOUT_MS: intIn(100, 600_000).default(30_000),
  LEELOO_MAX_RETRIES: intIn(0, 50).default(6),
  LEELOO_RATE_LIMIT: rateLimit.default('auto'),
  LEELOO_RATE_LIMIT_MAX: numIn(1, 1_000_000).default(200),
  LEELOO_PAGE_SIZE: intIn(1, 1000).default(100),
  LEELOO_DATE_FORMAT: z.enum(['datetime', 'date']).default('datetime'),

  DATABASE_URL: z.string().trim().min(1, 'must not be empty').default('./data/leeloo.db'),

  SYNC_START_DATE: isoDay.default('2015-01-01'),
  SYNC_LOOKBACK_MINUTES: intIn(0, 60 * 24 * 30).default(60),
  SYNC_CONCURRENCY: intIn(1, 64).default(4),
  SYNC_WINDOW_MAX_ROWS: intIn(10, 1_000_000).default(5000),
  SYNC_CHAT_OVERLAP: intIn(0, 1000).default(5),
  SYNC_ACCOUNTS_V1: bool.default(false),

  REDIS_URL: redisUrl.default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9:_-]+$/, 'may contain only letters, digits, ":", "_" and "-"')
    .default('leeloo-sync'),
  SCHEDULE_NIGHTLY_CRON: z.string().trim().min(1).default('0 3 * * *'),
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
  SCHEDULE_FULL_CRON: z.string().trim().min(1).optional(),
  WORKER_SHUTDOWN_TIMEOUT_MS: intIn(1000, 600_000).default(30_000),
  WRITE_MAX_ATTEMPTS: intIn(1, 100).default(8),

  DASHBOARD_HOST: z.string().trim().min(1).default('127.0.0.1'),
  DASHBOARD_PORT: intIn(0, 65535).default(3000),
  DASHBOARD_USER: z.string().min(1).optional(),
  DASHBOARD_PASSWORD: z.string().min(1).optional(),

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
  if (parsed.success) {
    const e = parsed.data;
    if ((e.DASHBOARD_USER === undefined) !== (e.DASHBOARD_PASSWORD === undefined)) {
      problems.push('DASHBOARD_USER and DASHBOARD_PASSWORD must be set together');
    }
  }
  if (problems.length > 0 || !parsed.success) {
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`, problems);
  }
  registerSecret(parsed.data.LEELOO_API_TOKEN);
  registerSecret(parsed.data.DASHBOARD_PASSWORD);
  return parsed.data;
}

/** `DATABASE_URL` is a SQLite file path, optionally written as `file:PATH`. */
export function sqlitePath(databaseUrl: string): string {
  if (databaseUrl.startsWith('file://')) return decodeURIComponent(new URL(databaseUrl).pathname);
  if (databaseUrl.startsWith('file:')) return databaseUrl.slice('file:'.length);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(databaseUrl)) {
    throw new ConfigError(`DATABASE_URL must be a SQLite file path or file:PATH (got a ${databaseUrl.split(':')[0]}: URL)`);
  }
  return databaseUrl;
}
