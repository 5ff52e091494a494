/** What an in-flight request can be ended with (exchange.ts's Exchange). */
export interface Abortable {
  abort(err: Error): void;
}

/** The reason a request is ended with when its deadline passes. */
export class DeadlineExceeded extends Error {
  constructor() {
    super('request timed out');
  }
}

/** Signals kept listened to while nothing of theirs is in flight (a sync passes one signal to all its calls). */
const IDLE_SIGNALS = 16;

interface SignalWatch {
  watched: Set<Watched>;
  onAbort: () => void;
}

export interface Watched {
  readonly ex: Abortable;
  /** performance.now() past which the request is ended. */
  readonly at: number;
  readonly signal: AbortSignal | undefined;
  done: boolean;
  /** Set before the request is ended for its deadline. */
  timedOut: boolean;
}

/**
 * The deadline and the caller's abort of every request of one transport, without a timer and an
 * abort listener per request: a timer and an AbortSignal listener each cost more than the
 * request's own dispatch (node's setTimeout runs the async-hooks init of a Timeout, an
 * EventTarget listener is validated and wrapped; bench/cpu-profile.ts, docs/benchmarks.md
 * "Simulator and transport, session 16").
 *
 * Every request of a transport has the same timeout, so deadlines come in the order requests
 * start: one timer, armed for the oldest request still in flight, serves them all. Each signal
 * gets one listener, the first time a request carries it, that ends that signal's requests; it
 * stays while the signal is among the last few used, and close() removes them all.
 */
export class InFlight {
  private queue: Watched[] = [];
  private head = 0;
  private pending = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Signals with their listener, oldest first; idle ones past IDLE_SIGNALS are let go. */
  private readonly signals = new Map<AbortSignal, SignalWatch>();

  constructor(private readonly timeoutMs: number) {}

  /** Watches a request from now until `done(w)`. The signal must not be aborted already. */
  add(ex: Abortable, signal: AbortSignal | undefined): Watched {
    const w: Watched = { ex, at: performance.now() + this.timeoutMs, signal, done: false, timedOut: false };
    while (this.head < this.queue.length && this.queue[this.head]!.done) this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.queue.push(w);
    this.pending++;
    if (this.timer === null) this.arm(this.timeoutMs);
    if (signal) {
      let sw = this.signals.get(signal);
      if (!sw) {
        const watched = new Set<Watched>();
        const onAbort = () => {
          this.signals.delete(signal);
          for (const x of watched) x.ex.abort(signal.reason);
        };
        sw = { watched, onAbort };
        this.signals.set(signal, sw);
        signal.addEventListener('abort', onAbort, { once: true });
      }
      sw.watched.add(w);
      // After the add: the new signal has a request in flight, so it is never the one let go.
      if (this.signals.size > IDLE_SIGNALS) this.letGo(IDLE_SIGNALS);
    }
    return w;
  }

  /** Removes every listener (the transport is closing). */
  close(): void {
    this.letGo(0);
  }

  /**
   * Removes the listeners of signals with nothing in flight, oldest first, until at most `keep`
   * signals are held: a caller that passes a new signal per call, or a process-wide one to many
   * short-lived transports, leaves no listener behind.
   */
  private letGo(keep: number): void {
    for (const [signal, sw] of this.signals) {
      if (this.signals.size <= keep) return;
      if (sw.watched.size > 0) continue;
      signal.removeEventListener('abort', sw.onAbort);
      this.signals.delete(signal);
    }
  }

  done(w: Watched): void {
    if (w.done) return;
    w.done = true;
    this.pending--;
    if (w.signal) this.signals.get(w.signal)?.watched.delete(w);
    if (this.pending === 0) {
      // Nothing in flight: no timer keeps the process alive, and the queue starts over.
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.queue = [];
      this.head = 0;
    }
  }

  /** How many requests are watched (for tests). */
  get size(): number {
    return this.pending;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.expire(), Math.max(1, Math.ceil(ms)));
  }

  private expire(): void {
    this.timer = null;
    const now = performance.now();
    const expired: Watched[] = [];
    while (this.head < this.queue.length) {
      const w = this.queue[this.head]!;
      if (!w.done && w.at > now) break;
      this.head++;
      if (!w.done) expired.push(w);
    }
    if (this.head < this.queue.length) this.arm(this.queue[this.head]!.at - now);
    for (const w of expired) {
      w.timedOut = true;
      w.ex.abort(new DeadlineExceeded());
    }
  }
}
