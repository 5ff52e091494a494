/** What an in-flight request can be ended with (http.ts's Exchange). */
export interface Abortable {
  abort(err: Error): void;
}

/** The reason a request is ended with when its deadline passes. */
export class DeadlineExceeded extends Error {
  constructor() {
    super('request timed out');
  }
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
 * gets one listener, the first time a request carries it, that ends that signal's requests.
 */
export class InFlight {
  private queue: Watched[] = [];
  private head = 0;
  private pending = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly bySignal = new WeakMap<AbortSignal, Set<Watched>>();

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
      let set = this.bySignal.get(signal);
      if (!set) {
        const watched = (set = new Set());
        this.bySignal.set(signal, watched);
        signal.addEventListener('abort', () => {
          for (const x of watched) x.ex.abort(signal.reason);
        }, { once: true });
      }
      set.add(w);
    }
    return w;
  }

  done(w: Watched): void {
    if (w.done) return;
    w.done = true;
    this.pending--;
    if (w.signal) this.bySignal.get(w.signal)?.delete(w);
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
