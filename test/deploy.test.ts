import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { parse } from 'yaml';
import { ENV_VARS, loadConfig, sqlitePath } from '../src/config.js';
import { databaseKind } from '../src/db/location.js';
import { scrub } from '../src/log.js';
import { dashboardAccess } from '../src/dashboard/auth.js';
import { openStore } from '../src/db/store/index.js';
import { adminQuery, createTestDatabase, createTestRole, PG_ADMIN_URL, pgUrl } from './helpers/pg.js';

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
  it('interpolates with only the default setup\'s secrets set: compose checks every ${VAR:?} of a file before it applies profiles', () => {
    // Every string anywhere in the file, as compose interpolates them all (profiles included).
    const strings = (v: unknown): string[] => (typeof v === 'string' ? [v] : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : []);
    const all = strings(compose);
    expect(all.length).toBeGreaterThan(10);
    for (const v of all) expect(() => interpolate(v, secrets), v).not.toThrow();
    expect(read('docker-compose.yml')).not.toMatch(/POSTGRES_PASSWORD:\?|METABASE_DB_PASSWORD:\?/);
  });

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

describe('docker-compose.postgres.yml (profile "postgres")', () => {
  type Healthy = { healthcheck?: { test?: string[] } };
  const override = parse(read('docker-compose.postgres.yml')) as { services: Record<string, Service> };
  const postgres = override.services.postgres as Service & Healthy;
  const shell = { ...secrets, POSTGRES_PASSWORD: 'pg-password-from-shell', METABASE_DB_PASSWORD: 'mb-password-from-shell' };
  /** The worker's environment with the override merged over it, as compose does. */
  const pgWorkerEnv = (sh: Record<string, string> = shell) =>
    Object.fromEntries(Object.entries({ ...worker.environment, ...override.services.worker!.environment }).map(([k, v]) => [k, interpolate(String(v), sh)]));
  const dependsOn = (s: Service) => (Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((d) => [d, {}])) : (s.depends_on ?? {})) as Record<string, { condition?: string }>;

  it('overrides only the worker and Metabase, and only with settings the app reads', () => {
    expect(Object.keys(override.services).sort()).toEqual(['metabase', 'postgres', 'worker']);
    expect(postgres.profiles).toEqual(['postgres']);
    expect(Object.keys(override.services.worker!.environment ?? {})).toEqual(['DATABASE_URL']);
    for (const k of Object.keys(pgWorkerEnv())) expect(ENV_VARS, k).toContain(k);
    expect(() => pgWorkerEnv(secrets)).toThrow(/POSTGRES_PASSWORD is required/);
  });

  it('points DATABASE_URL at the postgres service, as its user and database, and the config accepts it', () => {
    const env = pgWorkerEnv();
    const config = loadConfig(env, { requireToken: true });
    expect(databaseKind(config.DATABASE_URL)).toBe('postgres');
    const url = new URL(config.DATABASE_URL);
    const pgEnv = Object.fromEntries(Object.entries(postgres.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), shell)]));
    expect(url.hostname).toBe('postgres');
    expect(url.port || '5432').toBe('5432');
    expect(url.username).toBe(pgEnv.POSTGRES_USER);
    expect(decodeURIComponent(url.password)).toBe(pgEnv.POSTGRES_PASSWORD);
    expect(url.pathname).toBe(`/${pgEnv.POSTGRES_DB}`);
    // Loading the configuration registers the password, so no log line or error can carry it.
    expect(scrub(`login ${pgEnv.POSTGRES_PASSWORD} failed`)).toBe('login [REDACTED] failed');
  });

  it('keeps PostgreSQL on a named volume, healthchecked, unpublished; the worker and Metabase wait for it', () => {
    expect(postgres.image).toMatch(/^postgres:(1[3-9]|[2-9]\d)\b/);
    expect(mounts(postgres).find((m) => m.target === '/var/lib/postgresql/data')?.source).toBe('postgres-data');
    expect(Object.keys((parse(read('docker-compose.postgres.yml')) as { volumes: object }).volumes)).toContain('postgres-data');
    expect(postgres.healthcheck?.test).toEqual(['CMD', 'pg_isready', '-U', 'leeloo', '-d', 'leeloo']);
    expect(postgres.ports).toBeUndefined();
    expect(dependsOn(override.services.worker!).postgres?.condition).toBe('service_healthy');
    expect(dependsOn(override.services.metabase!).postgres?.condition).toBe('service_healthy');
    expect(override.services.metabase!.profiles).toEqual(['bi', 'postgres']);
    // The base worker still depends on redis; compose merges the override's postgres into it.
    expect(Object.keys(dependsOn(worker))).toContain('redis');
  });

  it('merged over docker-compose.yml, the worker waits for a healthy Redis and a healthy PostgreSQL', () => {
    // Compose merges depends_on by service name, whichever syntax each file uses.
    const merged = { ...dependsOn(worker), ...dependsOn(override.services.worker!) };
    expect(merged).toEqual({ redis: { condition: 'service_healthy' }, postgres: { condition: 'service_healthy' } });
    expect(Object.keys(dependsOn(metabase))).toContain('worker');
  });

  it('tells Metabase to read the database the worker writes, and no longer says the worker refuses it', () => {
    const comments = read('docker-compose.postgres.yml');
    const m = /add a PostgreSQL database: host (\S+), port (\d+), database (\S+), user (\S+),(?:\s|#)*password ([A-Z_]+):/.exec(comments);
    expect(m, 'docker-compose.postgres.yml names the Metabase connection').not.toBeNull();
    const url = new URL(loadConfig(pgWorkerEnv(), { requireToken: true }).DATABASE_URL);
    // The server and database the worker writes, as the read-only user the init script creates.
    expect({ host: m![1], port: m![2], database: m![3], user: m![4], password: m![5] }).toEqual({
      host: url.hostname,
      port: url.port || '5432',
      database: url.pathname.slice(1),
      user: postgres.environment?.METABASE_DB_USER,
      password: 'METABASE_DB_PASSWORD',
    });
    expect(String(postgres.environment?.METABASE_DB_PASSWORD)).toMatch(/^\$\{METABASE_DB_PASSWORD:\?/);
    expect(mounts(postgres).find((v) => v.target === '/docker-entrypoint-initdb.d')).toEqual({
      source: './deploy/postgres-init',
      target: '/docker-entrypoint-initdb.d',
      mode: 'ro',
    });
    expect(existsSync(new URL('deploy/postgres-init/metabase-reader.sh', root))).toBe(true);
    for (const f of ['docker-compose.yml', 'docker-compose.postgres.yml']) {
      expect(read(f), f).not.toMatch(/refuses a postgres|not yet working/i);
    }
  });

  it('is in the image: the runtime stage has migrations-pg/ next to migrations/', () => {
    expect(read('Dockerfile')).toContain('COPY migrations-pg ./migrations-pg');
    expect(existsSync(new URL('migrations-pg/meta/_journal.json', root))).toBe(true);
  });
});

describe('.ci/run', () => {
  it('makes sure PostgreSQL answers at 127.0.0.1:5432 before the tests, as it does Redis', () => {
    const ci = read('.ci/run');
    const at = (needle: string) => {
      const i = ci.indexOf(needle);
      expect(i, needle).toBeGreaterThan(-1);
      return i;
    };
    const tests = at('\nnpm test');
    expect(at('pg_host=127.0.0.1')).toBeLessThan(tests);
    expect(at('pg_port=5432')).toBeLessThan(tests);
    expect(at('pg_isready -q -h "$pg_host" -p "$pg_port"')).toBeLessThan(tests);
    expect(at('/dev/tcp/$pg_host/$pg_port')).toBeLessThan(tests);
    expect(at('apt-get install -y -qq postgresql')).toBeLessThan(at('pg_ctlcluster --skip-systemctl-redirect'));
    expect(at('pg_up || { echo "ci: postgresql did not come up"')).toBeLessThan(tests);
    expect(spawnSync('bash', ['-n', fileURLToPath(new URL('.ci/run', root))]).status).toBe(0);
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

describe('deploy/postgres-init/metabase-reader.sh (run against the test server)', () => {
  it("gives Metabase's login SELECT on every table the worker creates later, and no write", async () => {
    const db = await createTestDatabase();
    const owner = await createTestRole();
    const reader = `leeloo_test_${randomBytes(6).toString('hex')}`;
    try {
      // As the image's entrypoint leaves it: POSTGRES_DB owned by POSTGRES_USER, who may create
      // roles (there a superuser; here no more than the script needs).
      await adminQuery(`ALTER DATABASE ${db.name} OWNER TO ${owner.name}`);
      await adminQuery(`ALTER ROLE ${owner.name} CREATEROLE`);
      const run = spawnSync('sh', [fileURLToPath(new URL('deploy/postgres-init/metabase-reader.sh', root))], {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          PGHOST: new URL(PG_ADMIN_URL).hostname,
          PGPORT: new URL(PG_ADMIN_URL).port || '5432',
          POSTGRES_USER: owner.name,
          POSTGRES_DB: db.name,
          METABASE_DB_USER: reader,
          METABASE_DB_PASSWORD: 'reader-pw',
        },
      });
      expect(run.status, run.stderr).toBe(0);
      // The worker's first start, as POSTGRES_USER: every table is created after the script ran.
      const store = await openStore(pgUrl(db.name, { name: owner.name }));
      await store.run(sql`INSERT INTO tags (id, name, raw, synced_at) VALUES ('t1', 'vip', '{}', '2026-01-01T00:00:00.000Z')`);
      await store.close();

      const client = new pg.Client({ connectionString: pgUrl(db.name, { name: reader, password: 'reader-pw' }) });
      await client.connect();
      try {
        expect((await client.query('SELECT id, name FROM tags')).rows).toEqual([{ id: 't1', name: 'vip' }]);
        expect(Number((await client.query('SELECT count(*) AS n FROM people')).rows[0].n)).toBe(0);
        const denied = (q: string) => client.query(q).then(() => 'allowed', (err: { code?: string }) => err.code);
        expect(await denied(`INSERT INTO tags (id, name, raw, synced_at) VALUES ('t2', 'x', '{}', 'now')`)).toBe('42501');
        expect(await denied(`UPDATE tags SET name = 'x'`)).toBe('42501');
        expect(await denied('CREATE TABLE mine (x int)')).toBe('42501');
      } finally {
        await client.end();
      }
    } finally {
      await db.drop();
      await owner.drop();
      await adminQuery(`DROP ROLE IF EXISTS ${reader}`);
    }
  });
});
