/**
 * Small deterministic PRNG. Every stream of randomness in the simulator (the world, each
 * person's lazily generated details, each channel's chat history, faults, activity) gets its own
 * generator derived from (seed, stream, index), so drawing from one never shifts another: a
 * channel's history is the same whether or not anything else was generated first.
 */

/** 32-bit avalanche mix (murmur3 fmix32). */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit seed from the simulator seed, a stream number and an index. */
export function deriveSeed(seed: number, stream: number, index = 0): number {
  let h = mix32((seed >>> 0) ^ 0x9e3779b9);
  h = mix32(h ^ Math.imul(stream + 1, 0x27d4eb2f));
  h = mix32(h ^ Math.imul((index >>> 0) + 1, 0x165667b1) ^ Math.floor(index / 0x100000000));
  return h;
}

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** mulberry32: uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Index chosen with the given relative weights. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i] as number;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  /** `n` distinct items (fewer if the list is shorter), in random order. */
  sample<T>(items: readonly T[], n: number): T[] {
    const copy = items.slice();
    const out: T[] = [];
    while (out.length < n && copy.length > 0) {
      const i = Math.floor(this.next() * copy.length);
      out.push(copy[i] as T);
      copy[i] = copy[copy.length - 1] as T;
      copy.pop();
    }
    return out;
  }

  hex(len: number): string {
    let s = '';
    while (s.length < len) s += Math.floor(this.next() * 0x10000).toString(16).padStart(4, '0');
    return s.slice(0, len);
  }

  base36(len: number): string {
    let s = '';
    for (let i = 0; i < len; i++) s += Math.floor(this.next() * 36).toString(36);
    return s;
  }
}

/** Stream numbers for deriveSeed; never renumber (it would change every generated company). */
export const STREAM = {
  world: 1,
  person: 2,
  personDetail: 3,
  channelMessages: 4,
  faults: 5,
  activity: 6,
  writes: 7,
  contacted: 8,
  neverWrote: 9,
  tricks: 10,
  notFound: 11,
} as const;

export function rngFor(seed: number, stream: number, index = 0): Rng {
  return new Rng(deriveSeed(seed, stream, index));
}
