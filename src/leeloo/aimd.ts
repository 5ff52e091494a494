/*
 * LEELOO_RATE_LIMIT=auto: the API publishes no limit (docs/leeloo-api.md: an overrun gets a plain-text
 * 429, maybe with Retry-After), so the client learns it, as TCP learns a path's capacity (AIMD):
 *
 * - slow start: from a safe rate (or the rate learned by the last run), ×1.5 every 250 ms while
 *   the limiter is what holds callers back (5/s → 400/s in under 3 s);
 * - on a 429: remember what was being sent over the last second as the ceiling estimate (the
 *   server's limit), cut the rate (×0.7), and hold still for the Retry-After pause;
 * - then climb additively (5 % of the ceiling per 250 ms) up to 97 % of the ceiling and stay
 *   there: an AIMD sawtooth would overrun the limit every cycle, and each 429 pauses every caller;
 * - a lone 429 at that steady rate, while sending at it, is arrival jitter (requests released on
 *   time, sent late and bunched): honour its Retry-After, narrow the ceiling 2 % (the wider margin
 *   is what keeps the next jitter 429 away) and resume straight at the new pace, without the cut
 *   and climb back; a second one within 30 s also cuts the rate, and a 429 while sending clearly
 *   less than the pace is a lower limit, learned at once;
 * - re-probe above the ceiling rarely (after 30 s, doubling up to 5 min while probes keep finding
 *   the same limit), in case the limit was raised: each probe that finds it costs a pause.
 *
 * The controller is pure bookkeeping on a clock; the limiters (rate-limit.ts, the Redis one) feed
 * it permits and 429s and apply its rate. Its state is plain JSON so that the Redis limiter can
 * share it between workers and the sync engine can store it in the mirror.
 */

export const AIMD = {
  initialRate: 5,
  minRate: 0.5,
  intervalMs: 250,
  slowStartFactor: 1.5,
  /** Multiplicative decrease on a 429 found while climbing or probing. */
  decrease: 0.7,
  /** Milder decrease on a repeated or lower-limit 429 at the cap, or one a probe found. */
  decreaseAtCap: 0.85,
  /** Steady rate as a share of the ceiling estimate: 3 % is ~30 ms of arrival jitter per second. */
  capShare: 0.97,
  /** A 429 at the cap while sending at the pace widens the margin by this much (the send rate was capped). */
  capCeilingShrink: 0.98,
  /**
   * A 429 at the cap is jitter, and the pace resumes without a cut, when none came within this long
   * before it. 30 s leaves room for a limit that sits right at the pace: its next 429 comes a
   * second or two after the pause, and that one cuts the rate.
   */
  jitterWindowMs: 30_000,
  /**
   * At the cap, sending at least this share of the rate when refused is "at the pace" (jitter,
   * or a limit a little lower); less is a lower limit, and what was sent is its estimate.
   */
  jitterShare: 0.9,
  /** A rate this close below capShare of the ceiling (or above) is "at the cap". */
  atCapSlack: 0.02,
  /** Additive increase per interval, as a share of the ceiling (at least 1/s). */
  additiveShare: 0.05,
  probeBaseMs: 30_000,
  probeMaxMs: 300_000,
  /** While probing, the ceiling estimate grows by this factor every probeStepMs. */
  probeFactor: 1.03,
  probeStepMs: 2_000,
  /** After a pause, 429s of requests sent before it may still arrive: they are the same event. */
  graceMs: 250,
  /** A 429 while sending less than this share of the rate is not taken as the limit. */
  idleShare: 0.5,
  /** A learned state starts the next run at this share of its ceiling. */
  restartShare: 0.9,
} as const;

/** What a run learned, as kept in the mirror (api_findings `rate_limit`) and in Redis. */
export interface LearnedRate {
  rate: number;
  /** The server's limit as learned: what was being sent when the last 429 came. */
  ceiling: number | null;
  learnedAt: string | null;
}

export interface AimdState {
  rate: number;
  ceiling: number | null;
  slowStart: boolean;
  /** Epoch ms of the last rate change (one increase per interval, across all processes). */
  changedAt: number;
  /** No change until then: the Retry-After pause and its grace. */
  holdUntil: number;
  /** When the next probe above the ceiling may start. */
  probeAt: number;
  probeEveryMs: number;
  /** The ceiling a running probe started from (null: not probing). */
  probeFrom: number | null;
  learnedAt: string | null;
  /** Epoch ms of the last 429 at the cap while sending at the pace (0: none): a repeat widens the margin. */
  jitterAt: number;
}

export interface RateLimitSnapshot {
  mode: 'auto' | 'fixed';
  /** Requests per second the limiter paces to now. */
  rate: number;
  /** auto: the learned limit (null until the first 429). */
  ceiling: number | null;
  /** auto: LEELOO_RATE_LIMIT_MAX. */
  max: number | null;
  learnedAt: string | null;
}

export interface AimdOptions {
  /** LEELOO_RATE_LIMIT_MAX: never faster than this. */
  maxRate: number;
  /** Used when nothing was learned. Default 5/s. */
  initialRate?: number;
  /** The last run's state (mirror or Redis): start near it. */
  learned?: LearnedRate | null;
  /**
   * The permits this controller sees are all the budget's (one process): what was sent over the
   * last second is counted, not inferred from the rate (workers sharing Redis infer it).
   */
  countsAll?: boolean;
  now?: () => number;
}

/** The first state: the learned rate less a margin, or a safe rate in slow start. */
export function initialState(o: AimdOptions, now: number): AimdState {
  const max = o.maxRate;
  const l = o.learned;
  const known = l && l.ceiling !== null && l.ceiling > 0 ? l.ceiling : null;
  let rate = Math.min(max, o.initialRate ?? AIMD.initialRate);
  if (known !== null) rate = known * AIMD.restartShare;
  else if (l && l.rate > 0) rate = Math.max(rate, l.rate * AIMD.restartShare);
  rate = clamp(rate, AIMD.minRate, max);
  return {
    rate,
    ceiling: known,
    slowStart: known === null,
    changedAt: now,
    holdUntil: 0,
    probeAt: now + AIMD.probeBaseMs,
    probeEveryMs: AIMD.probeBaseMs,
    probeFrom: null,
    learnedAt: known !== null ? (l?.learnedAt ?? null) : null,
    jitterAt: 0,
  };
}

/** The rate the state wants after one more saturated interval, or null when it stays. */
export function increase(s: AimdState, now: number, max: number): AimdState | null {
  if (now < s.holdUntil || now - s.changedAt < AIMD.intervalMs) return null;
  const cap = s.ceiling === null ? max : Math.min(max, s.ceiling * AIMD.capShare);
  if (s.slowStart || s.ceiling === null) {
    if (s.rate >= cap) return s.ceiling === null ? null : { ...s, slowStart: false };
    const rate = Math.min(cap, s.rate * AIMD.slowStartFactor);
    // Back at a limit learned before: from here on, additive.
    return { ...s, rate, slowStart: s.ceiling === null || rate < cap, changedAt: now };
  }
  if (s.rate < cap - 1e-9) {
    const step = Math.max(1, s.ceiling * AIMD.additiveShare);
    return { ...s, rate: Math.min(cap, s.rate + step), changedAt: now };
  }
  if (now < s.probeAt || cap >= max) return null;
  // At the cap for long enough without a 429: the limit may have been raised; look above it.
  const ceiling = Math.min(max / AIMD.capShare, s.ceiling * AIMD.probeFactor);
  const rate = Math.min(max, ceiling * AIMD.capShare);
  return { ...s, ceiling, rate, changedAt: now, probeAt: now + AIMD.probeStepMs, probeFrom: s.probeFrom ?? s.ceiling };
}

/**
 * The state after a 429 whose pause lasts `pauseMs`; `sentRate` is what was actually sent over
 * the last second (requests/s). Null when it belongs to a back-off already made.
 */
export function decrease(s: AimdState, now: number, pauseMs: number, sentRate: number, allowedRate = s.rate): AimdState | null {
  if (now < s.holdUntil) {
    // Another refusal of the burst that caused the back-off. The requests were refused in the
    // order they arrived, not answered in it: the one with the fewest sent before it is the
    // server's count, the others include refused ones.
    // Not after an at-cap 429 (jitterAt ≥ changedAt): it narrowed the margin already, and with the
    // send rate capped the burst's other refusals would make the ceiling the pace.
    if (!s.slowStart && s.ceiling !== null && s.jitterAt < s.changedAt && now - s.changedAt <= AIMD.graceMs && sentRate > 0 && sentRate < s.ceiling) {
      const ceiling = Math.max(AIMD.minRate, sentRate);
      return { ...s, ceiling, rate: Math.max(AIMD.minRate, s.rate * (ceiling / s.ceiling)) };
    }
    return null;
  }
  const est = Math.max(AIMD.minRate, Math.min(s.rate, sentRate > 0 ? sentRate : s.rate));
  const holdUntil = now + Math.max(0, pauseMs) + AIMD.graceMs;
  if (est < allowedRate * AIMD.idleShare) {
    // Refused while sending far less than the rate allows: someone else spends the same limit,
    // or it dropped. What was sent says little about the limit; re-grow fast from below it,
    // up to the ceiling known so far, and let a 429 met while limiter-bound say where it is.
    return { ...s, rate: Math.max(AIMD.minRate, est * AIMD.decrease), slowStart: true, changedAt: now, holdUntil, probeAt: holdUntil + s.probeEveryMs, probeFrom: null };
  }
  const probing = s.probeFrom !== null;
  const atCap = !s.slowStart && s.ceiling !== null && !probing && s.rate >= s.ceiling * (AIMD.capShare - AIMD.atCapSlack) - 1e-9;
  let ceiling: number;
  let rate: number;
  let jitterAt = s.jitterAt;
  if (atCap && est >= s.rate * AIMD.jitterShare) {
    // jitterAt 0 is "none yet", whatever the clock reads (a test's clock may start near 0).
    if (s.jitterAt === 0 || now - s.jitterAt > AIMD.jitterWindowMs) {
      // Alone: arrival jitter at a sliding-window limit (docs/benchmarks.md, "Session 16"). Widen
      // the margin 2 % as for any 429 at the cap (keeping the ceiling drew more repeats), but the
      // pause has emptied the server's window: resume at the new pace, not 15 % under it.
      ceiling = Math.max(AIMD.minRate, s.ceiling! * AIMD.capCeilingShrink);
      rate = Math.min(s.rate, ceiling * AIMD.capShare);
    } else {
      // Again: widen the margin; by more when less than the pace went out (the limit is about
      // that), and cut the rate: the limit may sit right at the pace.
      ceiling = Math.max(AIMD.minRate, s.ceiling! * Math.min(AIMD.capCeilingShrink, est / s.rate));
      rate = s.rate * AIMD.decreaseAtCap;
    }
    jitterAt = now;
  } else if (atCap) {
    // Refused while sending clearly less than the pace (and more than idleShare of it): the limit
    // dropped to about what the server accepted over that second.
    ceiling = est;
    rate = est * AIMD.decreaseAtCap;
  } else if (probing) {
    // The probe crossed the limit by a few percent: it is about what was sent.
    ceiling = est;
    rate = est * AIMD.decreaseAtCap;
  } else {
    ceiling = est;
    rate = est * AIMD.decrease;
  }
  let probeEveryMs = s.probeEveryMs;
  if (probing) {
    // The probe found the limit where it was: look again less often. Found it higher: keep looking.
    probeEveryMs = ceiling <= s.probeFrom! * 1.05 ? Math.min(AIMD.probeMaxMs, probeEveryMs * 2) : AIMD.probeBaseMs;
  }
  return {
    rate: Math.max(AIMD.minRate, rate),
    ceiling,
    slowStart: false,
    changedAt: now,
    holdUntil,
    probeAt: holdUntil + probeEveryMs,
    probeEveryMs,
    probeFrom: null,
    learnedAt: new Date(now).toISOString(),
    jitterAt,
  };
}

/**
 * One process's AIMD bookkeeping: which intervals were limiter-bound (only those may raise the
 * rate: a sync waiting on latency must not talk itself up to LEELOO_RATE_LIMIT_MAX), and the rate
 * over the last second (what the server saw when it answered 429).
 */
export class AimdController {
  readonly maxRate: number;
  private s: AimdState;
  private readonly now: () => number;
  private history: { at: number; rate: number }[];
  private windowStart: number;
  private permits = 0;
  private saturated = 0;
  private readonly countsAll: boolean;
  private readonly born: number;
  /** countsAll: when the permits of the last second were granted (a ring). */
  private sent: number[] = [];
  private sentHead = 0;

  constructor(o: AimdOptions) {
    if (!(o.maxRate > 0) || !Number.isFinite(o.maxRate)) throw new RangeError(`maxRate must be a positive number, got ${o.maxRate}`);
    this.maxRate = o.maxRate;
    this.now = o.now ?? Date.now;
    const t = this.now();
    this.s = initialState(o, t);
    this.history = [{ at: t, rate: this.s.rate }];
    this.windowStart = t;
    this.countsAll = o.countsAll ?? false;
    this.born = t;
  }

  get state(): AimdState {
    return this.s;
  }

  /**
   * A permit was granted after `waitedMs`. Returns the raised state when this closes a
   * limiter-bound interval (the caller applies it, or offers it to the other workers first).
   */
  onPermit(waitedMs: number): AimdState | null {
    const now = this.now();
    this.permits++;
    if (this.countsAll) {
      this.sent.push(now);
      if (this.sentHead > 4096) {
        this.sent = this.sent.slice(this.sentHead);
        this.sentHead = 0;
      }
    }
    if (waitedMs >= 500 / this.s.rate) this.saturated++;
    if (now - this.windowStart < AIMD.intervalMs) return null;
    const bound = this.saturated * 2 >= this.permits;
    this.windowStart = now;
    this.permits = 0;
    this.saturated = 0;
    return bound ? increase(this.s, now, this.maxRate) : null;
  }

  /**
   * A 429 that pauses everyone for `pauseMs`, for a request sent `sentAgoMs` ago. Returns the
   * lowered state, or null (the same event as a back-off already made).
   */
  on429(pauseMs: number, sentAgoMs = 0): AimdState | null {
    const now = this.now();
    const at = now - Math.max(0, sentAgoMs);
    return decrease(this.s, now, pauseMs, this.sentRate(at), this.allowedRate(at));
  }

  /** As on429, with what was sent over the second before the refused request counted elsewhere (Redis). */
  on429Counted(pauseMs: number, sentPerSecond: number, sentAgoMs = 0): AimdState | null {
    const now = this.now();
    return decrease(this.s, now, pauseMs, sentPerSecond, this.allowedRate(now - Math.max(0, sentAgoMs)));
  }

  /** Makes `next` current (computed here, or read from the other workers' shared copy). */
  adopt(next: AimdState): void {
    const now = this.now();
    if (next.rate !== this.s.rate) this.history.push({ at: now, rate: next.rate });
    this.s = next;
    const keepFrom = now - 2000;
    while (this.history.length > 1 && this.history[1]!.at <= keepFrom) this.history.shift();
    if (now < next.holdUntil) {
      // Permits waiting out a pause say nothing about demand after it.
      this.windowStart = Math.max(now, next.holdUntil);
      this.permits = 0;
      this.saturated = 0;
    }
  }

  /**
   * What a sliding-window server counted over the last second: the permits granted (countsAll),
   * or else the time-weighted rate, which is what a limiter-bound budget sent.
   */
  sentRate(at = this.now()): number {
    const from = at - 1000;
    if (this.countsAll) {
      // Permits older than two seconds can go. The refused request's own permit was granted just
      // before `at` (Date.now has ms steps): the second counted ends 1 ms early to leave it out.
      const keepFrom = this.now() - 2000;
      while (this.sentHead < this.sent.length && this.sent[this.sentHead]! <= keepFrom) this.sentHead++;
      let n = 0;
      for (let i = this.sentHead; i < this.sent.length; i++) {
        const t = this.sent[i]!;
        if (t > from - 1 && t < at - 1) n++;
      }
      // Less than a second since the start: scale what there is.
      const span = Math.min(1000, at - this.born);
      return span >= 250 ? (n * 1000) / span : this.s.rate;
    }
    return this.allowedRate(at);
  }

  /** The limiter's time-weighted rate over the second before `at`. */
  allowedRate(at = this.now()): number {
    const from = at - 1000;
    let sum = 0;
    let span = 0;
    for (let i = 0; i < this.history.length; i++) {
      const h = this.history[i]!;
      const end = Math.min(at, i + 1 < this.history.length ? this.history[i + 1]!.at : at);
      const a = Math.max(from, h.at);
      if (end <= a) continue;
      sum += h.rate * (end - a);
      span += end - a;
    }
    return span > 0 ? sum / span : this.s.rate;
  }

  snapshot(): RateLimitSnapshot {
    return { mode: 'auto', rate: this.s.rate, ceiling: this.s.ceiling, max: this.maxRate, learnedAt: this.s.learnedAt };
  }

  learned(): LearnedRate {
    return { rate: this.s.rate, ceiling: this.s.ceiling, learnedAt: this.s.learnedAt };
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** A state read from Redis or the mirror, or null when it is not one (another version, hand-edited). */
export function parseAimdState(raw: unknown): AimdState | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const o = raw as Partial<Record<keyof AimdState, unknown>>;
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  if (!num(o.rate) || (o.rate as number) <= 0 || !(o.ceiling === null || num(o.ceiling)) || typeof o.slowStart !== 'boolean') return null;
  if (!num(o.changedAt) || !num(o.holdUntil) || !num(o.probeAt) || !num(o.probeEveryMs)) return null;
  if (!(o.probeFrom === null || num(o.probeFrom)) || !(o.learnedAt === null || typeof o.learnedAt === 'string')) return null;
  return {
    rate: o.rate as number,
    ceiling: o.ceiling as number | null,
    slowStart: o.slowStart,
    changedAt: o.changedAt as number,
    holdUntil: o.holdUntil as number,
    probeAt: o.probeAt as number,
    probeEveryMs: o.probeEveryMs as number,
    probeFrom: o.probeFrom as number | null,
    learnedAt: o.learnedAt as string | null,
    // Absent in a state written before it existed: no jitter 429 remembered.
    jitterAt: num(o.jitterAt) ? (o.jitterAt as number) : 0,
  };
}
