import { existsSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/**
 * The configured mirror's path, refused (exit 2) when there is no file yet: commands that read or
 * steer an existing mirror (`status`, `enqueue`, `outbox`) must not create an empty one.
 * The configuration loads here, when a command runs, not when the commands are defined.
 */
export async function existingMirrorPath(): Promise<string> {
  const { loadConfig, sqlitePath } = await import('../config.js');
  const path = sqlitePath(loadConfig(process.env).DATABASE_URL);
  if (path !== ':memory:' && !existsSync(path)) throw new ConfigError(`no mirror at ${path} yet: run \`leeloo-sync sync\` first`);
  return path;
}

/**
 * The configured DATABASE_URL for a command that only reads the mirror (`status`, `report`):
 * a SQLite file must exist already (as existingMirrorPath); a postgres:// URL is returned as it
 * is, and opening it read-only refuses a database that is not a mirror yet.
 */
export async function existingMirrorUrl(): Promise<string> {
  const [{ loadConfig }, { databaseKind }] = await Promise.all([import('../config.js'), import('../db/location.js')]);
  const url = loadConfig(process.env).DATABASE_URL;
  return databaseKind(url) === 'postgres' ? url : existingMirrorPath();
}
