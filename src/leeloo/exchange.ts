import type { Dispatcher } from 'undici';
import type { Abortable } from './in-flight.js';

/** Internal signals of Exchange, turned into ApiErrors by HttpTransport.send() (http.ts). */
export class TooLarge extends Error {}
export class Redirect extends Error {}

/**
 * One request's undici handler (the dispatcher's callback interface): keeps the status, the
 * two headers the client reads, and the body's chunks, and settles `done` once.
 */
export class Exchange implements Dispatcher.DispatchHandler, Abortable {
  status = 0;
  retryAfter: string | undefined;
  location: string | undefined;
  readonly done: Promise<void>;
  private chunks: Buffer[] = [];
  private bytes = 0;
  private settled = false;
  private abortFn: ((err: Error) => void) | null = null;
  private reason: Error | null = null;
  private resolve!: () => void;
  private reject!: (err: unknown) => void;

  constructor(private readonly maxBytes: number) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** Ends the exchange with `err` (the connection goes with it). */
  abort(err: Error): void {
    this.settle(err);
    if (this.abortFn) this.abortFn(err);
    else this.reason = err;
  }

  text(): string {
    const c = this.chunks;
    return c.length === 1 ? c[0]!.toString('utf8') : Buffer.concat(c, this.bytes).toString('utf8');
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.reason) abort(this.reason);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[] | null): boolean {
    if (statusCode < 200) return true; // 1xx: the answer follows
    this.status = statusCode;
    let length: number | undefined;
    const raw = rawHeaders ?? [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const k = raw[i]!;
      // Only three names matter: compare lengths before decoding any.
      if (k.length !== 8 && k.length !== 11 && k.length !== 14) continue;
      const name = k.toString('latin1').toLowerCase();
      if (name === 'retry-after') this.retryAfter = raw[i + 1]!.toString('latin1');
      else if (name === 'content-length') length = Number(raw[i + 1]!.toString('latin1'));
      else if (name === 'location') this.location = raw[i + 1]!.toString('latin1');
    }
    if (statusCode >= 300 && statusCode < 400) this.abort(new Redirect());
    else if (length !== undefined && Number.isFinite(length) && length > this.maxBytes) this.abort(new TooLarge());
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.settled) return true;
    this.bytes += chunk.length;
    // Counted while it arrives: past the cap the connection is dropped, so an endless or huge
    // answer costs at most that much memory.
    if (this.bytes > this.maxBytes) this.abort(new TooLarge());
    else this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    this.settle(null);
  }

  onError(err: Error): void {
    this.settle(err);
  }

  private settle(err: Error | null): void {
    if (this.settled) return;
    this.settled = true;
    if (err) {
      this.chunks = [];
      this.reject(err);
    } else this.resolve();
  }
}
