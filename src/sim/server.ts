import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { errorMessage } from '../errors.js';
import { applyActivity, randomActivity } from './activity.js';
import { FaultPlan, RateLimiter, TOO_MANY_REQUESTS, serverErrorBody, type Fault } from './faults.js';
import { HttpFailure, notFound, parseBody, readBody, type Body } from './http.js';
import { checkKnobs } from './knobs.js';
import { STREAM, rngFor, type Rng } from './random.js';
import { matchRoute } from './routes/index.js';
import { deletePeople, restorePeople, silentEdits } from './tricks.js';
import { nulStrings } from './nul.js';
import type { DeleteReport, DeleteRequest, NulStringsReport, NulStringsRequest, SilentEditKind, SilentEditReport, SilentEditRequest, SimStore } from './types.js';
import type { ActivityReport, ActivityRequest, SimKnobs, WriteLogEntry } from './types.js';
import type { World } from './world.js';

interface Answer {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Routes the notFoundRate knob breaks: a person's detail and a channel's chat history. */
const DETAIL_ROUTES = new Set(['/api/v2/people/:id', '/api/v2/communication-channels/:id/chat-messages', '/api/v1/accounts/:id/chat-messages']);

function json(status: number, body: unknown): Answer {
  return { status, contentType: JSON_TYPE, body: JSON.stringify(body) };
}

/**
 * The HTTP side: routing, auth, counters, the write log, faults, latency and the rate limit.
 * Control routes under /__sim/ skip all of that (no token, never faulted or counted).
 */
export class SimServer {
  readonly http: Server;
  private readonly counts = new Map<string, number>();
  private limited = 0;
  private readonly log: WriteLogEntry[] = [];
  private readonly faults: FaultPlan;
  private readonly limiter = new RateLimiter();
  private readonly activityRng: Rng;
  private readonly writeRng: Rng;
  private readonly tricksRng: Rng;
  private readonly notFoundRng: Rng;
  private readonly sockets = new Set<Socket>();
  /** Connections accepted since start: shows whether clients keep theirs alive. */
  private accepted = 0;
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private closing = false;
  /** `POST /__sim/record`: every n-th 2xx API answer (target and body) goes to a file, for the bench's CPU and transport floors. */
  private recorder: { out: WriteStream; every: number; seen: number; written: number } | null = null;

  constructor(
    private readonly w: World,
    readonly knobs: SimKnobs,
    private readonly token: string,
    private readonly store: SimStore,
  ) {
    this.faults = new FaultPlan(w.seed);
    this.activityRng = rngFor(w.seed, STREAM.activity);
    this.writeRng = rngFor(w.seed, STREAM.writes);
    this.tricksRng = rngFor(w.seed, STREAM.tricks);
    this.notFoundRng = rngFor(w.seed, STREAM.notFound);
    this.http = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) this.send(res, json(500, { status: 0, error: { code: 'INTERNAL_ERROR', message: errorMessage(err) } }));
      });
    });
    this.http.on('connection', (s: Socket) => {
      this.sockets.add(s);
      this.accepted++;
      s.on('close', () => this.sockets.delete(s));
    });
  }

  activity(a: ActivityRequest): ActivityReport {
    return applyActivity(this.w, this.activityRng, a);
  }

  silentEdits(r: SilentEditRequest): SilentEditReport {
    return silentEdits(this.w, this.tricksRng, r);
  }

  deletePeople(r: DeleteRequest): DeleteReport {
    return deletePeople(this.w, this.tricksRng, r);
  }

  restorePeople(ids: string[]): DeleteReport {
    return restorePeople(this.w, ids);
  }

  nulStrings(r: NulStringsRequest): NulStringsReport {
    return nulStrings(this.w, this.tricksRng, r);
  }

  requestCounts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  rateLimitedCount(): number {
    return this.limited;
  }

  resetCounts(): void {
    this.counts.clear();
    this.limited = 0;
  }

  writeLog(): WriteLogEntry[] {
    return this.log.map((e) => ({ ...e }));
  }

  async close(): Promise<void> {
    this.closing = true;
    this.recorder?.out.end();
    this.recorder = null;
    for (const [t, resolve] of this.timers) {
      clearTimeout(t);
      resolve();
    }
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.http.closeAllConnections();
    await closed;
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.closing) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.set(t, resolve);
    });
  }

  private send(res: ServerResponse, a: Answer): void {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(a.status, { 'content-type': a.contentType, 'content-length': Buffer.byteLength(a.body), ...a.headers });
    res.end(a.body);
  }

  private async answer(res: ServerResponse, a: Answer | 'drop'): Promise<void> {
    await this.sleep(this.knobs.latencyMs);
    if (a === 'drop') {
      // No answer at all: the client sees the connection close (ECONNRESET / "other side closed").
      res.socket?.destroy();
      return;
    }
    if (a.status === 429) this.limited++;
    this.send(res, a);
  }

  private tooMany(retryAfter: number): Answer {
    // Plain text, not JSON (docs/leeloo-api.md, "When throttled").
    return { status: 429, contentType: 'text/plain; charset=utf-8', body: TOO_MANY_REQUESTS, headers: { 'retry-after': String(retryAfter) } };
  }

  private serverError(f: Fault): Answer {
    const { contentType, body } = serverErrorBody(f.status);
    return { status: f.status, contentType, body };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const { pathname, query } = splitTarget(req.url ?? '');
    const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
    if (path.startsWith('/__sim/')) return this.control(req, res, method, path);

    const match = matchRoute(method, path);
    const key = match ? match.key : `${method} (unmatched)`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const raw = await readBody(req).catch((e: unknown) => e);

    const now = Date.now();
    if (!this.limiter.admit(this.knobs.rateLimitRps, now)) return this.answer(res, this.tooMany(this.limiter.retryAfter(now)));

    const fault = this.faults.decide(this.knobs);
    const write = match?.route.write === true;
    if (fault?.kind === '429') return this.answer(res, this.tooMany(this.knobs.retryAfterSeconds));
    if ((fault?.kind === '5xx' || fault?.kind === 'drop') && !(write && fault.applied)) {
      return this.answer(res, fault.kind === 'drop' ? 'drop' : this.serverError(fault));
    }

    let result: Answer;
    try {
      if (raw instanceof Error || raw instanceof HttpFailure) throw raw;
      result = await this.run(req, query, match, raw as Buffer, fault);
    } catch (err) {
      result = err instanceof HttpFailure ? json(err.status, err.body) : json(500, { status: 0, error: { code: 'INTERNAL_ERROR', message: errorMessage(err) } });
    }

    if (fault?.kind === 'drop') return this.answer(res, 'drop');
    if (fault?.kind === '5xx') return this.answer(res, this.serverError(fault));
    if (fault?.kind === 'truncated') result = { ...result, body: result.body.slice(0, Math.floor(result.body.length / 2)) };
    if (fault?.kind === 'slow') await this.sleep(this.knobs.slowMs);
    const rec = this.recorder;
    if (rec && result.status === 200 && rec.seen++ % rec.every === 0) {
      rec.written++;
      // JSON.stringify leaves no raw line break or tab in its output, and node's parser refuses
      // control characters in a request target: one answer a line, three fields. The target
      // (path and query as received) lets the bench replay the same requests (bench/transport-floor.mjs).
      rec.out.write(`${key}\t${req.url ?? ''}\t${result.body}\n`);
    }
    return this.answer(res, result);
  }

  private async run(req: IncomingMessage, query: URLSearchParams, match: ReturnType<typeof matchRoute>, raw: Buffer, fault: Fault | null): Promise<Answer> {
    const given = req.headers['x-leeloo-authtoken'];
    const token = Array.isArray(given) ? given[0] : given;
    if (!token) throw new HttpFailure(401, { status: 0, error: { fields: { authToken: 'REQUIRED' }, code: 'FORMAT_ERROR' } });
    if (token !== this.token) throw new HttpFailure(401, { status: 0, error: { code: 'UNAUTHORIZED' } });
    if (!match) throw new HttpFailure(404, { status: 0, error: { code: 'NOT_FOUND' } });
    const { route, params } = match;
    const body: Body = route.write ? await parseBody(raw, req.headers['content-type']) : {};
    if (this.knobs.notFoundRate > 0 && DETAIL_ROUTES.has(route.template) && this.notFoundRng.chance(this.knobs.notFoundRate)) throw notFound();
    if (route.list && this.knobs.activityPerListRequest > 0) randomActivity(this.w, this.activityRng, this.knobs.activityPerListRequest);
    const out = route.handle({ w: this.w, knobs: this.knobs, query, params, body, rng: this.writeRng });
    if (route.write) {
      const entry: WriteLogEntry = { seq: this.log.length + 1, method: route.method, route: route.template, params: { ...params }, body, at: new Date().toISOString() };
      if (fault) entry.fault = fault.kind;
      this.log.push(entry);
    }
    return json(200, out);
  }

  private async control(req: IncomingMessage, res: ServerResponse, method: string, path: string): Promise<void> {
    const name = path.slice('/__sim/'.length);
    let body: Body = {};
    try {
      if (method === 'POST') body = await parseBody(await readBody(req), req.headers['content-type'] ?? 'application/json');
      const a = await this.controlAnswer(method, name, body);
      this.send(res, a ? json(200, a) : json(404, { error: 'unknown control route' }));
    } catch (err) {
      this.send(res, json(400, { error: err instanceof HttpFailure ? err.body : errorMessage(err) }));
    }
  }

  private async record(body: Body): Promise<unknown> {
    const prev = this.recorder;
    this.recorder = null;
    if (prev) await new Promise<void>((resolve) => prev.out.end(resolve));
    if (body.file === undefined) return { ok: true, written: prev?.written ?? 0 };
    const every = body.every ?? 1;
    if (typeof body.file !== 'string' || body.file === '') throw new Error('file must be a path');
    if (typeof every !== 'number' || !Number.isInteger(every) || every < 1) throw new Error('every must be a whole number of at least 1');
    this.recorder = { out: createWriteStream(body.file), every, seen: 0, written: 0 };
    return { ok: true, written: prev?.written ?? 0 };
  }

  private controlAnswer(method: string, name: string, body: Body): unknown {
    switch (`${method} ${name}`) {
      case 'POST record':
        return this.record(body);
      case 'GET health':
        return { ok: true, people: this.w.people.length, channels: this.w.channels.length, connections: this.accepted };
      case 'GET counts':
        return { counts: this.requestCounts(), rateLimited: this.limited };
      case 'POST reset-counts':
        this.resetCounts();
        return { ok: true };
      case 'GET knobs':
        return this.knobs;
      case 'POST knobs':
        Object.assign(this.knobs, checkKnobs(body));
        this.w.neverWrote = this.knobs.neverWrote;
        return this.knobs;
      case 'POST activity': {
        const req: ActivityRequest = {};
        for (const k of ['messages', 'newPeople', 'orderChanges', 'newOrders'] as const) {
          const v = body[k];
          if (v === undefined) continue;
          if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 1_000_000) throw new Error(`${k} must be a whole number from 0 to 1000000`);
          req[k] = v;
        }
        return this.activity(req);
      }
      case 'POST silent-edits':
        return this.silentEdits({ share: body.share as number | undefined, kinds: body.kinds as SilentEditKind[] | undefined });
      case 'POST delete-people':
        return this.deletePeople({ share: body.share as number | undefined, ids: stringList(body.ids, 'ids') });
      case 'POST restore-people':
        return this.restorePeople(stringList(body.ids, 'ids') ?? []);
      case 'POST nul-strings':
        return this.nulStrings({ share: body.share as number });
      case 'GET write-log':
        return this.writeLog();
      case 'GET store-counts':
        return this.store.counts();
      case 'POST hostile-id': {
        // Gives the first category or tunnel an id a hostile API could send (`..`, `a/b`), for
        // the tests that prove the client never builds a request path from such an id.
        const list = body.kind === 'category' ? this.w.categories : body.kind === 'tunnel' ? this.w.tunnels : [];
        if (list.length === 0 || typeof body.id !== 'string') throw new Error('expects {kind: "category" or "tunnel", id: string}');
        list[0]!.id = body.id;
        return { ok: true };
      }
      default:
        return undefined;
    }
  }
}

/**
 * A request target whose path is plain (letters, digits, `-`, `_`, `/`) and whose query is
 * printable ASCII without `#`: what WHATWG URL parsing would give, without building a URL (its
 * parse was the simulator's largest cost of its own per request). Dot segments, percent
 * escapes in the path, fragments, control characters and anything else take the URL parser, so
 * every answer stays byte for byte what it was (test/sim/answers-digest.test.ts).
 */
const PLAIN_PATH = /^\/[\w/-]*$/;
const PLAIN_QUERY = /^[\x21-\x22\x24-\x7e]*$/;

export function splitTarget(target: string): { pathname: string; query: URLSearchParams } {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const search = q < 0 ? '' : target.slice(q + 1);
  if (PLAIN_PATH.test(path) && PLAIN_QUERY.test(search)) return { pathname: path, query: new URLSearchParams(search) };
  const url = new URL(`http://sim.local${target.startsWith('/') ? '' : '/'}${target}`);
  return { pathname: url.pathname, query: url.searchParams };
}

function stringList(v: unknown, name: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error(`${name} must be a list of ids`);
  return v as string[];
}
