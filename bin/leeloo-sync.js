#!/usr/bin/env node
// Runs the compiled CLI in dist/, which npm's `prepare` builds (so `npm ci` alone is enough;
// after editing the sources, `npm run build`). Nothing is transpiled at start-up.
import { existsSync } from 'node:fs';

const main = new URL('../dist/jobs/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('leeloo-sync: dist/ is not built: run `npm run build` (npm ci does it)\n');
  process.exit(1);
}
await import(main.href);
