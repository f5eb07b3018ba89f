/**
 * A map of at most `limit` entries that forgets its older half at once: entries are set in a
 * young generation; when it holds `limit / 2`, it becomes the old one and the previous old one
 * is dropped whole. An entry read from the old generation moves back to the young one, so what
 * is used within a generation stays (an approximate least-recently-used order).
 *
 * Not a `Map` that deletes its oldest entry on each insert: V8 leaves a deleted entry's slot
 * empty until the table is rebuilt, and `keys().next()` walks every empty slot from the start,
 * so once such a map is full each eviction costs about as much as the number of evictions since
 * the last rebuild. The api's wallet cache (since removed) paid 70 µs per miss that way with
 * 1,000,000 busy wallets; this one about 1.5 µs (docs/performance.md, "The api's wallet cache").
 */
export class GenerationalMap<K, V> {
  private readonly generation: number;
  private young = new Map<K, V>();
  private old = new Map<K, V>();

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 2) throw new RangeError("limit must be an integer ≥ 2");
    this.generation = Math.floor(limit / 2);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  get(key: K): V | undefined {
    const young = this.young.get(key);
    if (young !== undefined) return young;
    const old = this.old.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: K, value: V): this {
    this.old.delete(key);
    this.young.set(key, value);
    if (this.young.size >= this.generation) {
      this.old = this.young;
      this.young = new Map();
    }
    return this;
  }
}
