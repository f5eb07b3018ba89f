import { randomUUID } from "node:crypto";
import type pg from "pg";
import { pino } from "pino";
import { AcceptBatcher } from "../../api/services/accept-batcher.ts";
import { newId } from "../../shared/ids.ts";
import { BatchSlots } from "../../worker/batch-slots.ts";
import type { RunnerDeps } from "../../worker/partition-runner.ts";

/**
 * For tests that run a partition's runner themselves (`runPartition`) rather than through a
 * worker: its dependencies with nothing around it (no Redis, no metrics, one batch slot, silent),
 * `overrides` replacing any of them.
 */
export function runnerDeps(pool: pg.Pool, overrides: Partial<RunnerDeps> = {}): RunnerDeps {
  return {
    pool,
    batchCap: () => 50,
    log: pino({ level: "silent" }),
    clearDirty: async () => {},
    publish: async () => {},
    stopping: () => false,
    slots: new BatchSlots(1),
    funding: new Map(),
    ...overrides,
  };
}

/**
 * Accepts top-ups of `walletId` (partition 0) of `amounts`, one request after another (a group of
 * one row each), through the api's accept batcher on `pool`, without ringing a doorbell.
 */
export async function acceptTopUps(pool: pg.Pool, clientId: string, walletId: string, amounts: number[]) {
  const batcher = new AcceptBatcher({ db: pool, ring: async () => {}, log: pino({ level: "silent" }) });
  for (const amount of amounts) {
    await batcher.submit({
      id: newId(),
      clientId,
      type: "top_up",
      amount: BigInt(amount),
      currency: "USD",
      fromWalletId: null,
      toWalletId: walletId,
      holdId: null,
      expiresInSeconds: null,
      metadata: {},
      partition: 0,
      idempotencyKey: randomUUID(),
      requestHash: "0".repeat(64),
    });
  }
}
