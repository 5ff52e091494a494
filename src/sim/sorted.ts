/**
 * Items kept newest first: by a time key descending, ties by id descending (ids are fixed-width
 * hex, so string order is numeric order). Lists and `filter[last_message]` windows are slices
 * found by binary search; an item whose time changes is spliced out and back in.
 */
export class NewestFirst<T extends { id: string }> {
  readonly items: T[];

  constructor(
    private readonly key: (item: T) => number,
    items: T[] = [],
  ) {
    this.items = items;
    this.items.sort((a, b) => this.compare(a, b));
  }

  get length(): number {
    return this.items.length;
  }

  /** Negative when `a` is listed before `b`. */
  private compare(a: T, b: T): number {
    const d = this.key(b) - this.key(a);
    if (d !== 0) return d;
    return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
  }

  /** First index whose time is <= t (everything before it is newer than t). */
  firstAtOrBefore(t: number): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.key(this.items[mid] as T) > t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First index whose time is < t. */
  firstBefore(t: number): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.key(this.items[mid] as T) >= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** [start, end) of the items with from <= time <= to (either bound may be absent). */
  window(from: number | null, to: number | null): [number, number] {
    const start = to === null ? 0 : this.firstAtOrBefore(to);
    const end = from === null ? this.items.length : this.firstBefore(from);
    return [start, Math.max(start, end)];
  }

  /** Position where `item` is or would be, by its current key. */
  private position(item: T): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(this.items[mid] as T, item) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds many items at once and sorts once (initial generation; insert() would be quadratic). */
  bulkLoad(items: Iterable<T>): void {
    for (const item of items) this.items.push(item);
    this.items.sort((a, b) => this.compare(a, b));
  }

  insert(item: T): void {
    this.items.splice(this.position(item), 0, item);
  }

  /** Removes `item`, located by its current key; returns whether it was there. */
  remove(item: T): boolean {
    const i = this.position(item);
    if (this.items[i] !== item) return false;
    this.items.splice(i, 1);
    return true;
  }

  /** Re-sorts one item whose key `change` modifies. */
  move(item: T, change: () => void): void {
    const had = this.remove(item);
    change();
    if (had) this.insert(item);
  }
}
