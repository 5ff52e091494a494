import type Database from 'better-sqlite3';

/**
 * Group commit: synchronous writes queued by concurrent tasks (a person's details, a channel's
 * messages) run together in one transaction, flushed when enough are queued or a few
 * milliseconds after the first. Each caller still gets its own result or error, and each write
 * keeps its "done" mark in the same transaction as its rows, so resuming stays exact; a commit
 * per API answer was most of the sync's CPU time.
 */
export class CommitBatcher {
  private queue: { fn: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sqlite: Database.Database,
    private readonly maxBatch = 64,
    private readonly maxDelayMs = 5,
  ) {}

  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxDelayMs);
    });
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const results: { ok: boolean; value: unknown }[] = [];
    try {
      this.sqlite.transaction(() => {
        for (const item of batch) {
          // A savepoint per write: one failing write rolls back alone and fails its own caller.
          try {
            results.push({ ok: true, value: this.sqlite.transaction(item.fn)() });
          } catch (err) {
            results.push({ ok: false, value: err });
          }
        }
      })();
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    batch.forEach((item, i) => {
      const r = results[i]!;
      if (r.ok) item.resolve(r.value);
      else item.reject(r.value);
    });
  }
}
