import type { Logger } from '../log.js';

/**
 * Progress of a run: on a TTY one line redrawn in place (streams, rows, rate); otherwise a pino
 * line per stream every few seconds, so log collectors are not flooded.
 */
export interface Progress {
  tick(stream: string, rows: number): void;
  stop(): void;
}

export const noProgress: Progress = { tick() {}, stop() {} };

export function createProgress(opts: { tty: boolean; logger: Logger; intervalMs?: number; out?: NodeJS.WriteStream }): Progress {
  const rows = new Map<string, number>();
  const started = Date.now();
  const out = opts.out ?? process.stderr;
  const interval = opts.intervalMs ?? (opts.tty ? 200 : 10_000);
  let last = 0;
  const render = (final: boolean) => {
    const elapsed = (Date.now() - started) / 1000;
    const total = [...rows.values()].reduce((a, b) => a + b, 0);
    const rate = elapsed > 0 ? Math.round(total / elapsed) : 0;
    if (opts.tty) {
      const parts = [...rows.entries()].map(([k, v]) => `${k} ${v}`).join(' · ');
      out.write(`\r\x1b[K${parts} | ${total} rows, ${rate}/s, ${elapsed.toFixed(0)}s${final ? '\n' : ''}`);
    } else {
      opts.logger.info({ progress: Object.fromEntries(rows), rows: total, rowsPerSecond: rate }, 'sync progress');
    }
  };
  return {
    tick(stream, n) {
      rows.set(stream, (rows.get(stream) ?? 0) + n);
      const now = Date.now();
      if (now - last >= interval) {
        last = now;
        render(false);
      }
    },
    stop() {
      if (rows.size > 0 && opts.tty) render(true);
    },
  };
}
