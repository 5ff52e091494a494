/**
 * What `enqueue` and `outbox` share: the existing mirror (a SQLite file or PostgreSQL, as
 * DATABASE_URL says) with the outbox functions, and one way to print a row. Both only touch the
 * database: the worker's relay picks new rows up, so these commands work with Redis and the
 * worker down.
 */
import type { Store } from '../db/store/types.js';
import type { OutboxRow } from '../writes/outbox.js';
import { reportFatal } from './common.js';
import { existingMirrorPath } from './mirror-file.js';

// The outbox functions, their validators (zod) and the database driver load when a command runs,
// not when the commands are defined (`leeloo-sync --help`).
export type Outbox = typeof import('../writes/outbox.js');

export async function withStore(fn: (store: Store, outbox: Outbox) => Promise<void>): Promise<void> {
  let store: Store | undefined;
  try {
    const outbox = await import('../writes/outbox.js');
    const { loadConfig } = await import('../config.js');
    const { databaseKind } = await import('../db/location.js');
    const url = loadConfig(process.env).DATABASE_URL;
    // A SQLite file that does not exist yet is refused rather than created empty; a PostgreSQL
    // database is the server's to create (an empty one is migrated, like the worker does).
    if (databaseKind(url) === 'sqlite') await existingMirrorPath();
    const { openStore } = await import('../db/store/index.js');
    store = await openStore(url);
    await fn(store, outbox);
  } catch (err) {
    await store?.close().catch(() => undefined);
    reportFatal(err);
  }
  await store?.close();
}

export function printRow(r: OutboxRow, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else process.stdout.write(`write #${r.id} ${r.kind} ${r.target_id ?? ''}: ${r.status}${r.last_error ? ` (${r.last_error})` : ''}\n`);
}
