import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { completionMessage, completionsChannel } from "../shared/queues/catalog.ts";
import type { RedisClient } from "../shared/redis/connection.ts";

/** How often a waiting request re-reads Postgres, in case an announcement was lost, ms. */
const REREAD_MS = 1_000;

/**
 * Long-poll support for `GET /v1/operations/:id?wait=N` (docs/design.md step 4): one Redis
 * subscription per api process to the runners' completion announcements. A waiter is registered
 * before the first read, so an announcement between the read and the wait is not missed; the
 * request re-reads every second and at the deadline, and holds no database connection meanwhile.
 */
export class CompletionWaiters {
  private readonly waiters = new Map<string, Set<() => void>>();
  private closing = false;
  private readonly rereadMs: number;

  /** `rereadMs`: a test seam (a test that must tell a wake-up from a re-read makes it long). */
  constructor(subscriber: RedisClient, prefix: string, log: Logger, rereadMs = REREAD_MS) {
    this.rereadMs = rereadMs;
    const channel = completionsChannel(prefix);
    subscriber.subscribe(channel).catch((err: unknown) => log.warn({ err: String(err) }, "subscribe failed"));
    subscriber.on("message", (ch: string, message: string) => {
      if (ch !== channel) return;
      let ids: string[];
      try {
        ids = completionMessage.parse(JSON.parse(message)).ids;
      } catch {
        return;
      }
      for (const id of ids) this.wake(id);
    });
  }

  private wake(id: string): void {
    const set = this.waiters.get(id);
    if (!set) return;
    for (const resolve of set) resolve();
  }

  /**
   * Reads with `read` until `done` holds or `waitMs` passes, then returns the last read.
   * On {@link close} every waiter reads once more and returns.
   */
  async waitFor<T>(
    id: string,
    waitMs: number,
    read: () => Promise<T>,
    done: (value: T) => boolean,
  ): Promise<T> {
    const deadline = Date.now() + waitMs;
    let signal!: Promise<void>;
    let resolveSignal!: () => void;
    const arm = () => {
      signal = new Promise<void>((r) => {
        resolveSignal = r;
      });
    };
    arm();
    const wake = () => resolveSignal();
    let set = this.waiters.get(id);
    if (!set) {
      set = new Set();
      this.waiters.set(id, set);
    }
    set.add(wake);
    try {
      for (;;) {
        const value = await read();
        const left = deadline - Date.now();
        if (done(value) || left <= 0 || this.closing) return value;
        const ac = new AbortController();
        await Promise.race([
          signal,
          sleep(Math.min(this.rereadMs, left), undefined, { signal: ac.signal }).catch(() => {}),
        ]);
        ac.abort();
        arm();
      }
    } finally {
      set.delete(wake);
      if (set.size === 0) this.waiters.delete(id);
    }
  }

  /** Requests waiting right now. */
  size(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }

  /** Answers every waiter now (shutdown). */
  close(): void {
    this.closing = true;
    for (const id of this.waiters.keys()) this.wake(id);
  }
}
