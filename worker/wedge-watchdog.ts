/**
 * Finds the partitions whose queue worker in this process has stopped taking doorbells.
 *
 * A BullMQ worker's blocking connection can wedge for good after Redis went away: on a Redis
 * Cluster that was down and came back, a worker was seen idle while its queue held dozens of
 * doorbells and nothing ran them, its partition's operations pending until the process was
 * restarted (BullMQ issue #4138 has the same symptom; its maintainers' advice is to close such
 * a worker and make a new one). The sweeper's view is the evidence: a partition this process
 * owns has operations pending past the grace period, its doorbells are rung, and no runner of
 * this process started on it, sweep after sweep. Past {@link WedgeWatchdog}'s bound, the
 * partition's queue worker is replaced. Replacing a healthy one is harmless (it only
 * reconnects); the bound is past a stalled job's recovery (lock plus stalled check), so a
 * partition that another process still runs is given the time its handover takes.
 */
export class WedgeWatchdog {
  private readonly afterMs: number;
  /** Partition → when it was first seen stale with this process idle on it, ms. */
  private readonly since = new Map<number, number>();

  constructor(afterMs: number) {
    this.afterMs = afterMs;
  }

  /**
   * One sweep's finding: the partitions with stale pending operations. `idle(p)` is true when
   * this process owns p and runs no runner on it. Returns the partitions to replace now.
   */
  observe(stale: readonly number[], idle: (partition: number) => boolean, now: number): number[] {
    const staleNow = new Set(stale.filter(idle));
    for (const p of this.since.keys()) if (!staleNow.has(p)) this.since.delete(p);
    const replace: number[] = [];
    for (const p of staleNow) {
      const first = this.since.get(p);
      if (first === undefined) this.since.set(p, now);
      else if (now - first >= this.afterMs) {
        replace.push(p);
        this.since.delete(p);
      }
    }
    return replace;
  }

  /** A runner of this process started on `partition`: its queue worker works. */
  started(partition: number): void {
    this.since.delete(partition);
  }
}
