/**
 * What `enqueue` and `outbox` share: the existing mirror with the outbox functions, and one way to
 * print a row. Both only touch SQLite: the worker's relay picks new rows up, so these commands
 * work with Redis and the worker down.
 */
import type { Mirror } from '../db/connection.js';
import type { OutboxRow } from '../writes/outbox.js';
import { reportFatal } from './common.js';
import { existingMirrorPath } from './mirror-file.js';

// The outbox functions, their validators (zod) and the database driver load when a command runs,
// not when the commands are defined (`leeloo-sync --help`).
export type Outbox = typeof import('../writes/outbox.js');

export async function withMirror(fn: (m: Mirror, outbox: Outbox) => void): Promise<void> {
  let mirror: Mirror | undefined;
  try {
    const outbox = await import('../writes/outbox.js');
    const path = await existingMirrorPath();
    const { openMirror } = await import('../db/connection.js');
    mirror = openMirror(path);
    fn(mirror, outbox);
  } catch (err) {
    mirror?.close();
    reportFatal(err);
  }
  mirror?.close();
}

export function printRow(r: OutboxRow, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else process.stdout.write(`write #${r.id} ${r.kind} ${r.target_id ?? ''}: ${r.status}${r.last_error ? ` (${r.last_error})` : ''}\n`);
}
