import { createLogUpdate } from 'log-update';
import type { Logger } from '../log.js';
import { ProgressTracker, type PartFigures, type Progress, type ProgressUnit, type StreamFigures } from './progress.js';

/**
 * Progress of a run for a person. On a TTY: one block redrawn in place, a line per stream, each
 * cut to the terminal's width so the block never wraps (a wrapped line would break the redraw
 * and scroll). Off a TTY: a pino line per running stream at a steady pace, and one when it ends.
 */
export interface ProgressViewOptions {
  tty: boolean;
  logger: Logger;
  /** Redraw (TTY) or log (otherwise) interval, in ms. @defaultValue 200 on a TTY, 10000 otherwise */
  intervalMs?: number;
  /** Where the TTY block goes (the summary table goes to stdout). @defaultValue `process.stderr` */
  out?: NodeJS.WriteStream;
  /** For tests. */
  now?: () => number;
}

export function createProgress(opts: ProgressViewOptions): Progress {
  const tracker = new ProgressTracker(opts.now);
  const interval = opts.intervalMs ?? (opts.tty ? 200 : 10_000);
  const view = opts.tty ? ttyView(tracker, opts.out ?? process.stderr) : logView(tracker, opts.logger);
  let timer: NodeJS.Timeout | undefined;
  const wake = () => {
    if (timer) return;
    timer = setInterval(view.update, interval);
    timer.unref();
  };
  // A figure changed: the tracker learns it, the view picks it up on its next beat.
  const counted = (figure: 'tick' | 'total' | 'remaining' | 'expect') => (stream: string, n: number, unit?: ProgressUnit) => {
    tracker[figure](stream, n, unit);
    wake();
  };
  return {
    start(stream) {
      tracker.start(stream);
      wake();
    },
    tick: counted('tick'),
    total: counted('total'),
    remaining: counted('remaining'),
    expect: counted('expect'),
    finish(stream, status) {
      tracker.finish(stream, status);
      view.finished(stream);
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
      view.stop();
    },
  };
}

interface View {
  update(): void;
  finished(stream: string): void;
  stop(): void;
}

function ttyView(tracker: ProgressTracker, out: NodeJS.WriteStream): View {
  // A pty without a window size (0 rows, 0 columns) would make log-update draw nothing at all.
  const target = new Proxy(out, {
    get(t, key) {
      if (key === 'columns') return t.columns || 80;
      if (key === 'rows') return t.rows || 24;
      const v: unknown = Reflect.get(t, key, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
  const draw = createLogUpdate(target, { showCursor: false });
  let drawn = false;
  const update = () => {
    if (tracker.size === 0) return;
    // One column spare: some terminals wrap a line that fills the last column.
    const width = Math.max(20, (out.columns || 80) - 1);
    draw(renderBlock(tracker.figures(), width).join('\n'));
    drawn = true;
  };
  return {
    update,
    finished: () => undefined,
    stop() {
      update();
      if (drawn) draw.done();
    },
  };
}

function logView(tracker: ProgressTracker, logger: Logger): View {
  const log = (f: StreamFigures) => logger.info(figuresRecord(f), 'sync progress');
  return {
    update() {
      for (const f of tracker.figures()) if (f.state === 'running') log(f);
    },
    finished(stream) {
      const f = tracker.figures().find((x) => x.stream === stream);
      if (f) log(f);
    },
    stop: () => undefined,
  };
}

/** The fields of a `sync progress` log line: the figures the TTY block shows. */
export interface ProgressRecord {
  stream: string;
  state: string;
  done: number;
  total: number | null;
  percent: number | null;
  rowsPerSecond: number;
  etaSeconds: number | null;
  elapsedSeconds: number;
  details?: { done: number; total: number | null; percent: number | null };
  channels?: { done: number; total: number | null; percent: number | null };
}

export function figuresRecord(f: StreamFigures): ProgressRecord {
  const rows = f.parts.find((p) => p.unit === 'rows');
  const rec: ProgressRecord = {
    stream: f.stream,
    state: f.state,
    done: rows?.done ?? 0,
    total: rows?.total ?? null,
    percent: rows?.percent ?? null,
    rowsPerSecond: Math.round(f.rate),
    etaSeconds: f.etaSeconds === null ? null : Math.round(f.etaSeconds),
    elapsedSeconds: Math.round(f.elapsedSeconds),
  };
  for (const p of f.parts) {
    if (p.unit !== 'rows') rec[p.unit] = { done: p.done, total: p.total, percent: p.percent };
  }
  return rec;
}

const num = (n: number) => Math.round(n).toLocaleString('en-US');

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

function formatPart(p: PartFigures, percent: boolean): string {
  const label = p.unit === 'rows' ? '' : `${p.unit} `;
  if (p.total === null) return `${label}${num(p.done)}`;
  return `${label}${num(p.done)}/${num(p.total)}${percent ? ` ${String(p.percent).padStart(3)}%` : ''}`;
}

/**
 * A stream's line at decreasing levels of detail: the widest that fits is drawn. The name, the
 * first count and the ETA (or final state) are kept longest.
 */
function lineVariants(f: StreamFigures, nameWidth: number): string[] {
  const name = f.stream.padEnd(nameWidth);
  const end = f.state === 'running' ? `ETA ${f.etaSeconds === null ? '?' : formatDuration(f.etaSeconds)}` : `${f.state === 'succeeded' ? 'done' : f.state} ${formatDuration(f.elapsedSeconds)}`;
  if (f.parts.length === 0) return [[name, f.state === 'running' ? 'starting' : end].join('  ')];
  const [first, ...rest] = f.parts;
  const rate = `${num(f.rate)}/s`;
  const join = (...fields: (string | null)[]) => fields.filter((x): x is string => x !== null).join('  ');
  return [
    join(name, formatPart(first!, true), ...rest.map((p) => formatPart(p, true)), rate, end),
    join(name, formatPart(first!, true), ...rest.map((p) => formatPart(p, false)), rate, end),
    join(name, formatPart(first!, true), ...rest.map((p) => formatPart(p, false)), end),
    join(name, formatPart(first!, true), end),
  ];
}

/** One line of the block, at most `width` wide; `nameWidth` aligns the columns. */
export function renderLine(f: StreamFigures, nameWidth: number, width = Infinity): string {
  const variants = lineVariants(f, nameWidth);
  return variants.find((v) => v.length <= width) ?? truncate(variants.at(-1)!, width);
}

/** The block: a line per stream, none wider than `width`. */
export function renderBlock(figures: StreamFigures[], width: number): string[] {
  const nameWidth = Math.max(0, ...figures.map((f) => f.stream.length));
  return figures.map((f) => renderLine(f, nameWidth, width));
}

function truncate(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, Math.max(0, width - 1))}…`;
}
