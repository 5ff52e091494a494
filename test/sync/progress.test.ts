import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { createProgress } from '../../src/sync/progress.js';

describe('progress', () => {
  it('redraws one line on a TTY with rows per stream and the rate', () => {
    let out = '';
    const stream = new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) }) as unknown as NodeJS.WriteStream;
    const p = createProgress({ tty: true, logger: createLogger({ level: 'silent' }), intervalMs: 0, out: stream });
    p.tick('people', 100);
    p.tick('chat_messages', 250);
    p.stop();
    expect(out).toContain('\r\x1b[K');
    expect(out).toMatch(/people 100 · chat_messages 250 \| 350 rows, \d+\/s/);
    expect(out.endsWith('\n')).toBe(true);
  });

  it('logs JSON lines when not on a TTY', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => lines.push(l) } });
    const p = createProgress({ tty: false, logger, intervalMs: 0 });
    p.tick('orders', 42);
    p.stop();
    const rec = JSON.parse(lines[0]!) as { msg: string; progress: Record<string, number>; rows: number };
    expect(rec.msg).toBe('sync progress');
    expect(rec.progress).toEqual({ orders: 42 });
    expect(rec.rows).toBe(42);
  });
});
