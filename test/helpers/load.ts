import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Api, Reply } from "./http.ts";

export interface LoadResult {
  /** Ids of operations that got a 202, each once. */
  accepted: Set<string>;
  /** Final answers other than 202, by status (network errors as 0). */
  refused: Map<number, number>;
}

/**
 * A steady stream of transfers and top-ups over `wallets` of one client until stopped: one
 * sequential loop per source wallet, so each operation debiting a wallet is accepted before
 * the next is sent and their order of application can be checked. A 503 or a dropped
 * connection is retried under the same Idempotency-Key (as a careful client would), at most 20
 * times, 250 ms apart.
 */
export function steadyLoad(api: Api, wallets: string[]): { stop(): Promise<LoadResult> } {
  const result: LoadResult = { accepted: new Set(), refused: new Map() };
  let running = true;
  const once = async (from: string) => {
    const to = wallets.filter((w) => w !== from)[Math.floor(Math.random() * (wallets.length - 1))] as string;
    const key = randomUUID();
    const send = (): Promise<Reply> =>
      Math.random() < 0.3
        ? api.topUp(from, 50, key)
        : api.transfer(from, to, 1 + Math.floor(Math.random() * 40), key);
    for (let attempt = 0; ; attempt++) {
      let reply: Reply | undefined;
      try {
        reply = await send();
      } catch {
        reply = undefined;
      }
      if (reply?.status === 202) {
        result.accepted.add(reply.body.id);
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
