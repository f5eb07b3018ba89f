import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunnerHooks, runPartition } from "../../worker/partition-runner.ts";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { runnerDeps } from "../helpers/runner.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * What the runner sends Postgres to apply a partition's operations and find it drained. The
 * system runs no worker: the test runs the partition's runner itself, on a pool whose clients
 * record each statement (a named one by its name, another by its text: Drizzle's begin, commit).
 */

let system: TestSystem;
let api: Api;

beforeAll(async () => {
  system = await startSystem({ partitions: 1 });
  api = await newClient(system);
});
afterAll(async () => system?.stop());

/** Runs partition 0 to its end with `batchCap`; returns what it sent, and how often the flag was cleared. */
async function run(
  batchCap: number,
  hooks?: RunnerHooks,
  lingerTurns = 0,
): Promise<{ sent: string[]; cleared: number }> {
  const sent: string[] = [];
  class RecordingClient extends pg.Client {
    // biome-ignore lint/suspicious/noExplicitAny: pg's query has a dozen overloads; this only records.
    override query(config: any, ...rest: any[]): any {
      sent.push(typeof config === "string" ? config : (config.name ?? config.text));
      return (super.query as (...args: unknown[]) => unknown)(config, ...rest);
    }
  }
  const pool = new pg.Pool({ connectionString: system.databaseUrl, max: 2, Client: RecordingClient });
  let cleared = 0;
  try {
    const outcome = await runPartition(
      0,
      runnerDeps(pool, {
        batchCap: () => batchCap,
        clearDirty: async () => {
          cleared++;
        },
        lingerTurns,
        ...(hooks ? { hooks } : {}),
      }),
    );
    expect(outcome).toBe("drained");
  } finally {
    await pool.end();
  }
  return { sent, cleared };
}

/** One batch with work, as the runner sends it. */
const BATCH = [
  "begin",
  "batch.lock-partitions",
  "batch.read-pending",
  "batch.funding-accounts",
  "batch.lock-wallets",
  "batch.write",
  "commit",
];
/** A select that finds nothing. */
const EMPTY_SELECT = ["begin", "batch.lock-partitions", "batch.read-pending", "commit"];
const count = (sent: string[], what: string) => sent.filter((s) => s === what).length;
const balanceOf = async (walletId: string) => (await api.get(`/v1/wallets/${walletId}`)).body.balance;

describe("the partition runner's round trips", () => {
  it("confirms a drained partition with one question, not a transaction", async () => {
    const w = await newWallet(api);
    for (const amount of [1, 2, 3]) expect((await api.topUp(w, amount)).status).toBe(202);

    const { sent, cleared } = await run(10);
    // The batch, the select that finds nothing left, then, once the flag is cleared, the
    // question that confirms.
    expect(sent).toEqual([...BATCH, ...EMPTY_SELECT, "batch.has-pending"]);
    expect(cleared).toBe(1);
    expect(await balanceOf(w)).toBe(6);
  });

  it("lingering alone, it spends each idle turn on one question, not on a transaction", async () => {
    const w = await newWallet(api);
    for (const amount of [1, 2, 3]) expect((await api.topUp(w, amount)).status).toBe(202);

    const { sent, cleared } = await run(10, undefined, 3);
    // Three turns as a rider with no batch to ride along, then the confirming question.
    expect(sent).toEqual([...BATCH, ...EMPTY_SELECT, ...Array(4).fill("batch.has-pending")]);
    expect(cleared).toBe(1);
    expect(await balanceOf(w)).toBe(6);
  });

  it("applies what arrived before the confirming question, then confirms again", async () => {
    const w = await newWallet(api);
    for (const amount of [10, 20, 30]) expect((await api.topUp(w, amount)).status).toBe(202);
    let late: string | undefined;
    let attempts = 0;

    const { sent, cleared } = await run(10, {
      // The third attempt (after the batch and the empty select) is the confirming one: it runs
      // after the flag is cleared, before the question.
      beforeBatch: async () => {
        if (attempts++ !== 2) return;
        const r = await api.topUp(w, 40);
        expect(r.status).toBe(202);
        late = r.body.id;
      },
    });
    expect(late).toBeDefined();
    // The first batch, an empty select, the question that finds the late top-up, its batch,
    // an empty select, the question that finds nothing.
    expect(count(sent, "begin")).toBe(4);
    expect(sent.filter((s) => s === "batch.has-pending" || s === "batch.write")).toEqual([
      "batch.write",
      "batch.has-pending",
      "batch.write",
      "batch.has-pending",
    ]);
    expect(cleared).toBe(2);
    expect(await balanceOf(w)).toBe(100);
    const entries = (await api.get(`/v1/wallets/${w}/entries`)).body.data;
    expect(entries.map((e: { amount: number }) => e.amount)).toEqual([40, 30, 20, 10]);
  });
});
