/** One "worker" opening the PostgreSQL mirror (pg-migrate.test.ts starts several at once). */
import { openPgMirror } from '../../src/db/pg.js';

const [url, folder] = process.argv.slice(2) as [string, string];
try {
  const m = await openPgMirror(url, { migrationsFolder: folder });
  await m.close();
  process.stdout.write('opened\n');
} catch (err) {
  process.stdout.write(`failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
