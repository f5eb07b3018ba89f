/**
 * At most `limit` batch transactions at once in this process, first come first served. Fewer
 * concurrent transactions than partitions is the point: a partition that waits for a slot
 * gathers more pending operations, so batches grow with the load instead of the machine
 * spending its cores on many small commits and their lock and WAL contention.
 */
export class BatchSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.free = limit;
  }

  /** Runs `fn` once a slot is free; the slot is released when `fn` settles. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}
