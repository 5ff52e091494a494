/**
 * What a run has done and what it expects, per stream, for a person watching it. The engine
 * reports through the Progress interface; ProgressTracker turns the reports into figures (done,
 * total, percent, rate, ETA) that src/sync/progress-view.ts draws on a TTY or logs.
 */

/**
 * What a count is of. `rows` are the records of the stream's own table (a person listed once
 * counts once, however many writes it takes); `details` are detail requests of listed records
 * (people, orders); `channels` are the channels whose chat history is read.
 */
export type ProgressUnit = 'rows' | 'details' | 'channels';

export interface Progress {
  /** The stream started its work (after the streams it depends on). */
  start(stream: string): void;
  /** `n` more records of `unit` done. */
  tick(stream: string, n: number, unit?: ProgressUnit): void;
  /** `n` more records of `unit` expected: a list's totalCount on its first page, keys found due. */
  total(stream: string, n: number, unit?: ProgressUnit): void;
  /** Exactly `n` records of `unit` still to do (a fresh count of the due keys). */
  remaining(stream: string, n: number, unit?: ProgressUnit): void;
  /**
   * At least `n` more records of `unit` lie ahead, though they will be counted again piece by
   * piece (a date window too deep to page, split into windows that report their own totals).
   */
  expect(stream: string, n: number, unit?: ProgressUnit): void;
  /** The stream ended: succeeded, failed, interrupted or skipped. */
  finish(stream: string, status: string): void;
  /** The run ended: draw the final state. */
  stop(): void;
}

export const noProgress: Progress = { start() {}, tick() {}, total() {}, remaining() {}, expect() {}, finish() {}, stop() {} };

export interface PartFigures {
  unit: ProgressUnit;
  done: number;
  /** What the API said there is; at least `done`. Null when nothing told it. */
  total: number | null;
  /** Whole percent, rounded down (100 only when done reaches the total). */
  percent: number | null;
  /** Per second, over the last few seconds (the whole run once finished). */
  rate: number;
}

export interface StreamFigures {
  stream: string;
  /** `running`, or the status the stream finished with. */
  state: string;
  elapsedSeconds: number;
  parts: PartFigures[];
  /** Rate of the stream's records (its `rows`; else its first part). */
  rate: number;
  /** Seconds until every part with a total reaches it; null while unknown or when finished. */
  etaSeconds: number | null;
}

interface Part {
  done: number;
  total: number | null;
  /** The largest `done + n` an expect() call promised; the total shown is never below it. */
  expected: number | null;
  samples: { t: number; done: number }[];
}

interface StreamState {
  startedAt: number;
  finishedAt: number | null;
  status: string | null;
  parts: Map<ProgressUnit, Part>;
}

const UNIT_ORDER: ProgressUnit[] = ['rows', 'details', 'channels'];

/** The state behind a progress display: no I/O, a clock that tests may replace. */
export class ProgressTracker implements Omit<Progress, 'stop'> {
  private readonly streams = new Map<string, StreamState>();

  constructor(
    private readonly now: () => number = Date.now,
    /** Rates are measured over this much recent time, so the ETA follows the current pace. */
    private readonly rateWindowMs = 10_000,
  ) {}

  get size(): number {
    return this.streams.size;
  }

  private stream(name: string): StreamState {
    let s = this.streams.get(name);
    if (!s) {
      s = { startedAt: this.now(), finishedAt: null, status: null, parts: new Map() };
      this.streams.set(name, s);
    }
    return s;
  }

  private part(stream: string, unit: ProgressUnit): Part {
    const s = this.stream(stream);
    let p = s.parts.get(unit);
    if (!p) {
      p = { done: 0, total: null, expected: null, samples: [{ t: s.startedAt, done: 0 }] };
      s.parts.set(unit, p);
    }
    return p;
  }

  start(stream: string): void {
    this.stream(stream);
  }

  tick(stream: string, n: number, unit: ProgressUnit = 'rows'): void {
    this.part(stream, unit).done += n;
  }

  total(stream: string, n: number, unit: ProgressUnit = 'rows'): void {
    const p = this.part(stream, unit);
    p.total = (p.total ?? 0) + Math.max(0, n);
  }

  remaining(stream: string, n: number, unit: ProgressUnit = 'rows'): void {
    const p = this.part(stream, unit);
    p.total = p.done + Math.max(0, n);
  }

  expect(stream: string, n: number, unit: ProgressUnit = 'rows'): void {
    const p = this.part(stream, unit);
    p.expected = Math.max(p.expected ?? 0, p.done + Math.max(0, n));
  }

  finish(stream: string, status: string): void {
    const s = this.stream(stream);
    s.finishedAt = this.now();
    s.status = status;
  }

  isFinished(stream: string): boolean {
    return this.streams.get(stream)?.finishedAt != null;
  }

  /** The figures now; also takes the rate sample of this moment. */
  figures(): StreamFigures[] {
    const now = this.now();
    const out: StreamFigures[] = [];
    for (const [name, s] of this.streams) {
      const end = s.finishedAt ?? now;
      const parts: PartFigures[] = [];
      for (const unit of UNIT_ORDER) {
        const p = s.parts.get(unit);
        if (!p) continue;
        const told = p.total === null && p.expected === null ? null : Math.max(p.total ?? 0, p.expected ?? 0);
        // Once finished, what was promised but never came (records that left a window) is not owed.
        const total = told === null ? null : s.finishedAt !== null && p.total !== null ? Math.max(p.total, p.done) : Math.max(told, p.done);
        parts.push({
          unit,
          done: p.done,
          total,
          percent: total === null ? null : total === 0 ? 100 : Math.floor((100 * p.done) / total),
          rate: s.finishedAt !== null ? perSecond(p.done, end - s.startedAt) : this.recentRate(p, now),
        });
      }
      let eta: number | null = null;
      if (s.finishedAt === null) {
        const left = parts.filter((p) => p.total !== null && p.done < p.total);
        eta = left.every((p) => p.rate > 0) ? Math.max(0, ...left.map((p) => (p.total! - p.done) / p.rate)) : null;
        if (parts.length === 0 || parts.every((p) => p.total === null)) eta = null;
      }
      out.push({
        stream: name,
        state: s.status ?? 'running',
        elapsedSeconds: (end - s.startedAt) / 1000,
        parts,
        rate: (parts.find((p) => p.unit === 'rows') ?? parts[0])?.rate ?? 0,
        etaSeconds: eta,
      });
    }
    return out;
  }

  private recentRate(p: Part, now: number): number {
    p.samples.push({ t: now, done: p.done });
    while (p.samples.length > 2 && p.samples[1]!.t <= now - this.rateWindowMs) p.samples.shift();
    const first = p.samples[0]!;
    return perSecond(p.done - first.done, now - first.t);
  }
}

function perSecond(n: number, ms: number): number {
  return ms > 0 ? (n * 1000) / ms : 0;
}
