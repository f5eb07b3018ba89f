/** What one request of a group came to: its result, or the error that is its alone. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A request for a slot; one `alone` is run in a group of its own. */
export interface SlotRequest {
  alone: boolean;
  /** Wants a group only with a request that is not a rider: see {@link BatchSlots}. */
  rider?: boolean;
}

interface Waiting<R, T> {
  request: R;
  execute: (group: R[]) => Promise<Settled<T>[]>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/**
 * At most `limit` batch transactions at once in this process, first come first served. Fewer
 * concurrent transactions than partitions is the point: a partition that waits for a slot
 * gathers more pending operations, so batches grow with the load instead of the machine
 * spending its cores on many small commits and their lock and WAL contention.
 *
 * The requests that wait when a slot frees leave together: one call of `execute` (the first
 * waiter's) takes them all, in arrival order, and settles each with its own result: one
 * transaction for several partitions' due work. A request `alone` (a runner isolating a failed
 * batch, or one whose partition filled its last batch) is never grouped: it leaves by itself
 * when its turn comes, and a group gathered before it leaves without it.
 *
 * A `rider` (a runner whose partition had nothing at its last select) is worth a place only in a
 * group that has other work. When a slot frees and only riders wait, they hold it for up to
 * `riderWaitMs`: the runners of the group that just ended ask again a moment later (after their
 * own round trips), and the first that is not a rider leaves with them at once. If none comes,
 * the riders leave alone (the runner's `execute` then asks first whether they have anything).
 */
export class BatchSlots {
  private free: number;
  // biome-ignore lint/suspicious/noExplicitAny: each waiter's types are its own caller's.
  private readonly waiting: Waiting<any, any>[] = [];
  /** Set while riders hold a slot, waiting for a request that is not a rider. */
  private riderWait: NodeJS.Timeout | undefined;
  private readonly riderWaitMs: number;

  constructor(limit: number, riderWaitMs = 0) {
    this.free = limit;
    this.riderWaitMs = riderWaitMs;
  }

  /** Runs `request` in the next group `execute` is called with; resolves or rejects with its own part. */
  run<R extends SlotRequest, T>(request: R, execute: (group: R[]) => Promise<Settled<T>[]>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ request, execute, resolve, reject });
      if (this.riderWait && !request.rider) {
        // The riders' slot: they leave now, with this request.
        clearTimeout(this.riderWait);
        this.riderWait = undefined;
        this.runGroup();
      } else if (this.free > 0) {
        this.free--;
        this.next();
      }
    });
  }

  /** With a slot taken: runs the next group (riders alone wait first), or frees the slot. */
  private next(): void {
    if (this.waiting.length > 0 && this.waiting.every((w) => w.request.rider)) {
      if (this.riderWait) {
        this.free++; // the riders already hold a slot
        return;
      }
      this.riderWait = setTimeout(() => {
        this.riderWait = undefined;
        this.runGroup();
      }, this.riderWaitMs);
      return;
    }
    this.runGroup();
  }

  /** With a slot taken: runs the next group, then hands the slot on (or frees it). */
  private runGroup(): void {
    const group = this.takeGroup();
    if (group.length === 0) {
      this.free++;
      return;
    }
    const first = group[0] as Waiting<SlotRequest, unknown>;
    void Promise.resolve()
      .then(() => first.execute(group.map((w) => w.request)))
      .then(
        (settled) => {
          group.forEach((w, i) => {
            const s = settled[i];
            if (!s) w.reject(new Error("a batch group settled fewer requests than it took"));
            else if (s.ok) w.resolve(s.value);
            else w.reject(s.error);
          });
        },
        (error: unknown) => {
          for (const w of group) w.reject(error);
        },
      )
      .finally(() => this.next());
  }

  /** The first waiter alone if it asks to be, else every waiter up to the first that asks to be alone. */
  private takeGroup(): Waiting<SlotRequest, unknown>[] {
    const head = this.waiting[0];
    if (!head) return [];
    if (head.request.alone) return this.waiting.splice(0, 1);
    const end = this.waiting.findIndex((w) => w.request.alone);
    return this.waiting.splice(0, end === -1 ? this.waiting.length : end);
  }
}
