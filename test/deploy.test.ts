import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_VARS, loadConfig, sqlitePath } from '../src/config.js';
import { dashboardAccess } from '../src/dashboard/auth.js';

/*
 * No Docker engine runs here, so docker-compose.yml and the Dockerfile are checked statically:
 * they must agree with the configuration the app actually reads.
 */

const root = new URL('../', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), 'utf8');

type Service = {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string[] | string;
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  volumes?: string[];
  profiles?: string[];
  depends_on?: string[] | Record<string, unknown>;
  stop_grace_period?: string;
};
const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const { redis, worker, metabase } = compose.services as Record<'redis' | 'worker' | 'metabase', Service>;

/** Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` against a given shell environment. */
function interpolate(value: string, shell: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op: string | undefined, arg: string | undefined) => {
    const v = shell[name];
    if (v !== undefined && v !== '') return v;
    if (op === '-') return arg ?? '';
    if (op === '?') throw new Error(`${name} is required: ${arg}`);
    return '';
  });
}

const secrets = { LEELOO_API_TOKEN: 'token-from-shell', DASHBOARD_PASSWORD: 'password-from-shell' };
const workerEnv = (shell: Record<string, string> = secrets) =>
  Object.fromEntries(Object.entries(worker.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), shell)]));

/** `source:target[:mode]` of a service's volumes. */
const mounts = (s: Service) =>
  (s.volumes ?? []).map((v) => {
    const [source, target, mode] = v.split(':');
    return { source: source!, target: target!, mode };
  });

/** `[host_ip:]host:container` → container port. */
const containerPorts = (s: Service) => (s.ports ?? []).map((p) => Number(String(p).split(':').at(-1)));

describe('docker-compose.yml', () => {
  it('has redis and the worker, and Metabase only in the "bi" profile', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['metabase', 'redis', 'worker']);
    expect(redis.profiles).toBeUndefined();
    expect(worker.profiles).toBeUndefined();
    expect(metabase.profiles).toEqual(['bi']);
    expect(worker.build === '.' || (typeof worker.build === 'object' && worker.build.context === '.')).toBe(true);
    expect(existsSync(new URL('Dockerfile', root))).toBe(true);
    const deps = Array.isArray(worker.depends_on) ? worker.depends_on : Object.keys(worker.depends_on ?? {});
    expect(deps).toContain('redis');
  });

  it('sets only environment variables the app reads, and they form a valid configuration', () => {
    const env = workerEnv();
    for (const k of Object.keys(env)) expect(ENV_VARS, `${k} is not a setting of the app`).toContain(k);
    const config = loadConfig(env, { requireToken: true });
    expect(config.LEELOO_API_TOKEN).toBe('token-from-shell');
    expect(config.SCHEDULE_NIGHTLY_CRON).toBe('0 3 * * *');
    expect(config.SCHEDULE_TIMEZONE).toBe('UTC');
    // The secrets come from the shell and are required: compose refuses to start without them.
    expect(() => workerEnv({})).toThrow(/LEELOO_API_TOKEN is required/);
    expect(() => workerEnv({ LEELOO_API_TOKEN: 't' })).toThrow(/DASHBOARD_PASSWORD is required/);
  });

  it('points REDIS_URL at the redis service, which persists its data', () => {
    const url = new URL(workerEnv().REDIS_URL!);
    expect(url.hostname).toBe('redis');
    expect(url.port || '6379').toBe('6379');
    expect(String(redis.command)).toMatch(/--appendonly,yes|--appendonly yes/);
    expect(mounts(redis).map((m) => m.target)).toContain('/data');
  });

  it('keeps the SQLite mirror on a named volume that Metabase mounts too', () => {
    const dbFile = sqlitePath(workerEnv().DATABASE_URL!);
    expect(posix.isAbsolute(dbFile)).toBe(true);
    const workerMount = mounts(worker).find((m) => dbFile.startsWith(`${m.target}/`));
    expect(workerMount, `no volume holds ${dbFile}`).toBeDefined();
    expect(Object.keys(compose.volumes)).toContain(workerMount!.source);
    const mbMount = mounts(metabase).find((m) => m.source === workerMount!.source);
    expect(mbMount, 'Metabase mounts the mirror volume').toBeDefined();
    // Same path inside both containers, so the file Metabase is pointed at is the worker's file.
    expect(mbMount!.target).toBe(workerMount!.target);
  });

  it('publishes the dashboard port the worker listens on, on all interfaces inside, with credentials', () => {
    const env = workerEnv();
    expect(env.DASHBOARD_HOST).toBe('0.0.0.0');
    expect(containerPorts(worker)).toEqual([Number(env.DASHBOARD_PORT)]);
    const config = loadConfig(env, { requireToken: true });
    expect(dashboardAccess(config)).toEqual({ user: 'admin', password: 'password-from-shell' });
    // And without credentials the same settings would be refused by the worker.
    expect(() => dashboardAccess({ ...config, DASHBOARD_USER: undefined, DASHBOARD_PASSWORD: undefined })).toThrow(/not a loopback address/);
  });

  it('gives a stopping worker more time than its own shutdown timeout', () => {
    const grace = /^(\d+)s$/.exec(worker.stop_grace_period ?? '');
    expect(grace).not.toBeNull();
    expect(Number(grace![1]) * 1000).toBeGreaterThan(loadConfig(workerEnv(), { requireToken: true }).WORKER_SHUTDOWN_TIMEOUT_MS);
  });
});

describe('Dockerfile', () => {
  const lines = read('Dockerfile')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const ignore = read('.dockerignore').split('\n').map((l) => l.trim());
  // Stages: a build stage compiles dist/, the last stage is what runs.
  const stages: string[][] = [];
  for (const l of lines) {
    if (l.startsWith('FROM ')) stages.push([]);
    stages.at(-1)?.push(l);
  }
  const build = stages[0]!;
  const runtime = stages.at(-1)!;
  interface Copy {
    from: string | null;
    sources: string[];
  }
  const copies = (stage: string[]): Copy[] =>
    stage
      .filter((l) => l.startsWith('COPY '))
      .map((l) => {
        const words = l.split(/\s+/).slice(1);
        const from = words[0]?.startsWith('--from=') ? words.shift()!.slice('--from='.length) : null;
        return { from, sources: words.slice(0, -1).map((w) => w.replace(/^\/app\//, '')) };
      });
  const fromContext = (cs: Copy[]) => cs.filter((c) => c.from === null).flatMap((c) => c.sources);
  const fromBuild = (cs: Copy[]) => cs.filter((c) => c.from !== null).flatMap((c) => c.sources);
  const pkg = JSON.parse(read('package.json')) as {
    scripts: Record<string, string>;
    dependencies: Record<string, string>;
    overrides?: Record<string, string>;
  };
  const jsonc = (p: string) => JSON.parse(read(p).replace(/^\s*\/\/.*$/gm, '')) as { extends?: string; include?: string[]; compilerOptions?: { outDir?: string; rootDir?: string } };
  const buildConfig = jsonc('tsconfig.build.json');
  // Local `file:` packages (dependencies or overrides): npm ci needs them, node_modules links them.
  const localDirs = [...Object.values(pkg.dependencies), ...Object.values(pkg.overrides ?? {})]
    .filter((v) => v.startsWith('file:'))
    .map((v) => v.slice('file:'.length).replace(/^\.\//, '').split('/')[0]!);

  it('builds on node:20 with npm ci and runs the worker', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s[0]).toMatch(/^FROM node:20([.-]|$)/);
    expect(build[0]).toMatch(/ AS build$/);
    expect(lines.at(-1)).toBe('CMD ["node", "bin/leeloo-sync.js", "worker"]');
  });

  it('compiles dist/ in the build stage: npm ci runs prepare, which runs the build', () => {
    expect(build.some((l) => /^RUN npm ci\b/.test(l))).toBe(true);
    expect(pkg.scripts.prepare).toBe('npm run build');
    expect(pkg.scripts.build).toBe('tsc -p tsconfig.build.json');
    // Everything npm ci and its prepare need is copied before npm ci runs.
    const npmCi = build.findIndex((l) => /^RUN npm ci\b/.test(l));
    const before = fromContext(copies(build.slice(0, npmCi)));
    for (const p of ['package.json', 'package-lock.json', 'tsconfig.build.json', buildConfig.extends!.replace(/^\.\//, ''), ...buildConfig.include!, ...localDirs]) {
      expect(before, p).toContain(p);
    }
    expect(localDirs).toContain('stubs');
    // The runtime keeps production dependencies only.
    expect(build.some((l) => /npm prune --omit=dev\b/.test(l))).toBe(true);
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    expect(Object.keys(pkg.dependencies)).not.toContain('typescript');
  });

  it('runs compiled JavaScript: the runtime stage holds dist/, bin/, migrations/ and the production node_modules', () => {
    const cs = copies(runtime);
    for (const p of ['package.json', 'node_modules', 'dist', ...localDirs]) expect(fromBuild(cs), p).toContain(p);
    for (const p of ['bin', 'migrations']) expect(fromContext(cs), p).toContain(p);
    expect(runtime.some((l) => /\b(npm ci|tsx|tsc)\b/.test(l))).toBe(false);
    // bin/leeloo-sync.js starts dist/jobs/main.js, which the build config emits from jobs/main.ts.
    expect(read('bin/leeloo-sync.js')).toContain("'../dist/jobs/main.js'");
    expect(buildConfig.compilerOptions?.outDir).toBe('dist');
    expect(buildConfig.compilerOptions?.rootDir).toBe('.');
    expect(buildConfig.include).toContain('jobs');
  });

  it('copies only paths that exist, and never the host\'s node_modules, database or dist/', () => {
    for (const p of [...fromContext(copies(build)), ...fromContext(copies(runtime))]) expect(existsSync(new URL(p, root)), p).toBe(true);
    for (const p of ['node_modules', 'data', '*.db', 'dist']) expect(ignore).toContain(p);
  });

  it('keeps the database where compose mounts its volume', () => {
    const envLine = runtime.findIndex((l) => l.startsWith('ENV '));
    const envBlock = runtime.slice(envLine, envLine + 3).join(' ');
    expect(envBlock).toContain(`DATABASE_URL=${workerEnv().DATABASE_URL}`);
    expect(runtime).toContain('VOLUME ["/data"]');
  });
});
