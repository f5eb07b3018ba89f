import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Api, Reply } from "./http.ts";

export interface LoadResult {
  /** Ids of operations that got a 202, each once. */
  accepted: Set<string>;
  /** Final answers other than 202, by status (network errors as 0). */
  refused: Map<number, number>;
  /** Retries answered as replays (`Idempotent-Replayed: true`): the first attempt was accepted but its answer lost. */
  replays: number;
}

/**
 * A steady stream of transfers and top-ups over `wallets` of one client until stopped: one
 * sequential loop per source wallet, so each operation debiting a wallet is accepted before
 * the next is sent and their order of application can be checked. A 503 or a dropped
 * connection is retried under the same Idempotency-Key (as a careful client would), at most 20
 * times, 250 ms apart; through `retryOn` if given (another api instance behind the same load
 * balancer), else through `api`.
 */
export function steadyLoad(
  api: Api,
  wallets: string[],
  opts: { retryOn?: Api } = {},
): { stop(): Promise<LoadResult> } {
  const result: LoadResult = { accepted: new Set(), refused: new Map(), replays: 0 };
  let running = true;
  const once = async (from: string) => {
    const to = wallets.filter((w) => w !== from)[Math.floor(Math.random() * (wallets.length - 1))] as string;
    const key = randomUUID();
    const topUp = Math.random() < 0.3;
    const amount = 1 + Math.floor(Math.random() * 40);
    const send = (through: Api): Promise<Reply> =>
      topUp ? through.topUp(from, 50, key) : through.transfer(from, to, amount, key);
    for (let attempt = 0; ; attempt++) {
      let reply: Reply | undefined;
      try {
        reply = await send(attempt === 0 ? api : (opts.retryOn ?? api));
      } catch {
        reply = undefined;
      }
      if (reply?.status === 202) {
        result.accepted.add(reply.body.id);
        if (attempt > 0 && reply.headers.get("idempotent-replayed") === "true") result.replays++;
        return;
      }
      const status = reply?.status ?? 0;
      if ((status === 503 || status === 0) && attempt < 20) {
        await sleep(250);
        continue;
      }
      result.refused.set(status, (result.refused.get(status) ?? 0) + 1);
      return;
    }
  };
  const loops = wallets.map(async (from) => {
    while (running) await once(from);
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return result;
    },
  };
}
