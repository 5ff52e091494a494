/**
 * A counting semaphore shared by every stream of a run: the number of API requests in flight is
 * bounded by SYNC_CONCURRENCY whatever mix of streams is running (the rate limiter bounds their
 * rate separately).
 */
export class Semaphore {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  /** ∫ active dt (ms), for the mean number of requests in flight over a run. */
  private busyMs = 0;
  private since = performance.now();
  private readonly created = performance.now();

  constructor(readonly size: number) {
    if (size < 1) throw new Error('semaphore size must be at least 1');
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    // A free slot is taken at once: no promise and no microtask turn before the request (every
    // API call of a sync passes here; bench/cpu-profile.ts).
    if (this.active < this.size) {
      this.account();
      this.active++;
      return this.holding(fn);
    }
    return new Promise<void>((resolve) => {
      this.account();
      this.waiters.push(resolve);
    }).then(() => this.holding(fn));
  }

  /** Runs `fn` in a slot already taken, and hands the slot on when it settles. */
  private async holding<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  /** Mean requests in flight since creation: how well a run used its concurrency. */
  meanInFlight(): number {
    this.account();
    const span = performance.now() - this.created;
    return span > 0 ? this.busyMs / span : 0;
  }

  private account(): void {
    const now = performance.now();
    this.busyMs += this.active * (now - this.since);
    this.since = now;
  }

  private release(): void {
    this.account();
    const next = this.waiters.shift();
    if (next) next();
    else this.active--;
  }
}

/**
 * Runs `fn` over `items` with at most `limit` pending at once, pulling lazily from the iterable
 * (so a stream of ids from SQL is never materialised). The first error stops new work and is
 * rethrown after the pending calls settle.
 */
export async function forEachConcurrent<T>(
  items: AsyncIterable<T> | Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const it = (Symbol.asyncIterator in items ? (items as AsyncIterable<T>)[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]()) as
    | AsyncIterator<T>
    | Iterator<T>;
  let failed: { err: unknown } | undefined;
  let done = false;
  let pulling: Promise<void> = Promise.resolve();
  const next = async (): Promise<IteratorResult<T> | undefined> => {
    // Serialise pulls: async iterators must not be advanced concurrently.
    let res: IteratorResult<T> | undefined;
    const p = pulling.then(async () => {
      if (done || failed) return;
      res = await it.next();
      if (res.done) done = true;
    });
    pulling = p.catch(() => undefined);
    await p;
    return res;
  };
  const worker = async () => {
    for (;;) {
      const res = await next();
      if (!res || res.done || failed) return;
      try {
        await fn(res.value);
      } catch (err) {
        failed ??= { err };
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  if (failed) {
    await (it as AsyncIterator<T>).return?.();
    throw failed.err;
  }
}
