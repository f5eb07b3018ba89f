/**
 * A transaction snapshot as Postgres's `pg_current_snapshot()` writes it, `xmin:xmax:xip,…`:
 * which transactions a statement run under it sees. For a transaction known to have committed
 * (an autocommit statement that answered), {@link sees} is exact.
 */
export class XactSnapshot {
  /** Every transaction below it had ended when the snapshot was taken. */
  private readonly xmin: bigint;
  /** No transaction from it on had ended. */
  private readonly xmax: bigint;
  /** Transactions between the two still in progress then. */
  private readonly inProgress: ReadonlySet<bigint>;

  private constructor(xmin: bigint, xmax: bigint, inProgress: ReadonlySet<bigint>) {
    this.xmin = xmin;
    this.xmax = xmax;
    this.inProgress = inProgress;
  }

  /** Parses `pg_current_snapshot()::text`; throws on anything else. */
  static parse(text: string): XactSnapshot {
    const m = /^(\d+):(\d+):((?:\d+(?:,\d+)*)?)$/.exec(text);
    if (!m) throw new Error(`not a transaction snapshot: ${JSON.stringify(text.slice(0, 40))}`);
    const [, xmin, xmax, xip] = m as unknown as [string, string, string, string];
    return new XactSnapshot(BigInt(xmin), BigInt(xmax), new Set(xip ? xip.split(",").map(BigInt) : []));
  }

  /** Whether a statement under this snapshot sees what the committed transaction `xid` wrote. */
  sees(xid: bigint): boolean {
    return xid < this.xmin || (xid < this.xmax && !this.inProgress.has(xid));
  }
}
