/**
 * Where DATABASE_URL points, checked before anything opens or creates it. Pure node:fs, so the
 * config schema can run these checks and report them with every other bad variable.
 */
import { accessSync, constants, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** `DATABASE_URL` as a SQLite path: a plain path, `file:PATH` or `file:///PATH` (percent-encoded). */
export function parseDatabaseUrl(databaseUrl: string): { path: string } | { problem: string } {
  const v = databaseUrl.trim();
  if (v === ':memory:') return { path: v };
  if (/^file:/i.test(v)) {
    let rest = v.slice('file:'.length);
    if (/[?#]/.test(rest)) return { problem: 'must be a plain file: URI (query strings and fragments are not supported)' };
    if (rest.startsWith('//')) {
      const slash = rest.indexOf('/', 2);
      const host = slash === -1 ? rest.slice(2) : rest.slice(2, slash);
      if (host !== '' && host.toLowerCase() !== 'localhost') return { problem: `must be a local file: URI (file:///PATH; got host "${host}")` };
      rest = slash === -1 ? '' : rest.slice(slash);
    }
    let path: string;
    try {
      path = decodeURIComponent(rest);
    } catch {
      return { problem: 'has malformed percent-encoding in its file: URI' };
    }
    if (path.trim() === '') return { problem: 'must name a path after file:, e.g. file:./data/leeloo.db' };
    if (path.includes('\0')) return { problem: 'must not contain a NUL character' };
    return { path };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return { problem: `must be a SQLite file path or file:PATH (got a ${v.split(':')[0]}: URL)` };
  if (v.includes('\0')) return { problem: 'must not contain a NUL character' };
  return { path: v };
}

const KERNEL = /^\/(proc|sys|dev)(\/|$)/;

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

const writable = (p: string, mode: number) => {
  try {
    accessSync(p, mode);
    return true;
  } catch {
    return false;
  }
};

/**
 * Why the SQLite file at `path` cannot be used, or undefined. Refused: kernel filesystems
 * (mkdir under /proc can hang, and nothing there is a database), directories and other
 * non-files, a path under a regular file, and a file or nearest existing directory this process
 * cannot write.
 */
export function databasePathProblem(path: string): string | undefined {
  if (path === ':memory:') return undefined;
  const abs = resolve(path);
  if (KERNEL.test(abs)) return `must not point into /proc, /sys or /dev (${abs})`;
  try {
    const st = statOrUndefined(abs);
    if (st) {
      if (st.isDirectory()) return `is a directory (${abs}); give a file path, e.g. ${abs.replace(/\/$/, '')}/leeloo.db`;
      if (!st.isFile()) return `is not a regular file (${abs})`;
      if (KERNEL.test(realpathSync(abs))) return `must not point into /proc, /sys or /dev (${abs} is ${realpathSync(abs)})`;
      if (!writable(abs, constants.R_OK | constants.W_OK)) return `is not readable and writable by this user (${abs})`;
      return undefined;
    }
    // The nearest existing ancestor must be a directory we can create the rest in.
    let dir = dirname(abs);
    let dst = statOrUndefined(dir);
    while (!dst && dirname(dir) !== dir) {
      dir = dirname(dir);
      dst = statOrUndefined(dir);
    }
    if (!dst) return `cannot be created: no parent directory exists (${abs})`;
    if (!dst.isDirectory()) return `is under a file, not a directory (${dir} is a file)`;
    const real = realpathSync(dir);
    if (KERNEL.test(real)) return `must not point into /proc, /sys or /dev (${dir} is ${real})`;
    if (!writable(dir, constants.W_OK | constants.X_OK)) return `cannot be created: ${dir} is not writable by this user`;
    return undefined;
  } catch (err) {
    return `cannot be checked (${abs}: ${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
}

/** Which backend `DATABASE_URL` selects: a `postgres://` or `postgresql://` URL, or a SQLite file. */
export function databaseKind(databaseUrl: string): 'sqlite' | 'postgres' {
  return /^postgres(ql)?:\/\//i.test(databaseUrl.trim()) ? 'postgres' : 'sqlite';
}

/** The password of a PostgreSQL `DATABASE_URL` (in the userinfo or `?password=`), to redact. */
export function pgPasswords(databaseUrl: string): string[] {
  try {
    const u = new URL(databaseUrl.trim());
    const out = [u.password, u.searchParams.get('password') ?? ''].filter((p) => p !== '');
    return [...out, ...out.map((p) => safeDecode(p))].filter((p, i, all) => all.indexOf(p) === i);
  } catch {
    return [];
  }
}

const safeDecode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** A PostgreSQL `DATABASE_URL` fit to print: `postgres://user@host:port/db`, never the password. */
export function redactDatabaseUrl(databaseUrl: string): string {
  try {
    const u = new URL(databaseUrl.trim());
    u.password = '';
    u.searchParams.delete('password');
    return u.toString();
  } catch {
    // Unparseable: keep only what cannot hold a password.
    return `${databaseUrl.trim().split(':')[0]}://…`;
  }
}

/** Why a `postgres://` URL cannot be used, or undefined; host, user and database may come from PG* variables. */
export function pgUrlProblem(databaseUrl: string): string | undefined {
  let u: URL;
  try {
    u = new URL(databaseUrl.trim());
  } catch {
    return 'is not a valid postgres:// URL (postgres://user:password@host:5432/database)';
  }
  if (u.hash !== '') return 'must not have a #fragment (postgres://user:password@host:5432/database)';
  if (decodeURIComponent(u.pathname).slice(1).includes('/')) return 'must name one database after the host (postgres://user:password@host:5432/database)';
  return undefined;
}

/** Both checks, for the config schema: the first problem, or undefined. */
export function databaseUrlProblem(databaseUrl: string): string | undefined {
  if (databaseKind(databaseUrl) === 'postgres') return pgUrlProblem(databaseUrl);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(databaseUrl.trim())?.[1];
  if (scheme !== undefined && scheme.toLowerCase() !== 'file') return `must be a SQLite file path, file:PATH, or a postgres:// URL (got a ${scheme}: URL)`;
  const parsed = parseDatabaseUrl(databaseUrl);
  return 'problem' in parsed ? parsed.problem : databasePathProblem(parsed.path);
}
