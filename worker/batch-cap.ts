/** The batch caps of a worker process (`BATCH_CAP`, and `BATCH_CAP_SHARED` at most it). */
export interface BatchCaps {
  cap: number;
  sharedCap: number;
}

/**
 * Most operations of one partition in a batch of `partitions` partitions. A runner alone in its
 * process (`onlyRunner`) takes up to `cap`: one partition's load is one batch after another, and
 * a larger batch pays its round trips and commit over more operations. While other runners have
 * work, a batch keeps to `sharedCap`, so that none holds its wallets' locks, or the slot, longer
 * than needed; a batch of several partitions (runners that waited for the slot together) shares
 * it out among them, at least one operation each.
 */
export function partitionCap(partitions: number, onlyRunner: boolean, { cap, sharedCap }: BatchCaps): number {
  const shared = Math.min(sharedCap, cap);
  if (partitions > 1) return Math.max(1, Math.floor(shared / partitions));
  return onlyRunner ? cap : shared;
}
