import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLedger } from "../../shared/db/ledger-audit.ts";
import { type Api, newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

let system: TestSystem;
let api: Api;

beforeAll(async () => {
  system = await startSystem({ partitions: 2, batchCap: 10 });
  api = await newClient(system);
});
afterAll(async () => system?.stop());

/** Starts test/helpers/crashing-worker.ts and resolves with the ids of the batch it stopped in. */
async function crashInsideBatch(): Promise<{ kill(): Promise<void>; batch: string[] }> {
  const child = spawn(process.execPath, ["test/helpers/crashing-worker.ts"], {
    env: { PATH: process.env.PATH ?? "", ...system.workerEnv },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const batch = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the worker never reached its batch")), 30_000);
    lines.on("line", (line) => {
      if (!line.startsWith("in-batch ")) return;
      clearTimeout(timer);
      resolve(JSON.parse(line.slice("in-batch ".length)) as string[]);
    });
    child.once("exit", (code) => reject(new Error(`crashing worker exited with ${code}`)));
  });
  return {
    batch,
    async kill() {
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
    },
  };
}

describe("a worker SIGKILLed inside a batch transaction, after its writes, before COMMIT", () => {
  it("leaves nothing of the batch; another worker applies it whole, in acceptance order", async () => {
    const a = await newWallet(api);
    const b = await newWallet(api);
    // Accepted while no worker runs: one batch of a top-up and four transfers out of the same wallet.
    const accepted = [(await api.topUp(a, 1_000)).body.id];
    for (const amount of [100, 200, 300, 900]) accepted.push((await api.transfer(a, b, amount)).body.id);

    const crashing = await crashInsideBatch();
    expect(crashing.batch).toEqual(accepted);
    // The batch's entries, balances and statuses are written but uncommitted: invisible.
    const during = await system.db.execute<{ pending: number; entries: number; moved: string }>(sql`
      SELECT (SELECT count(*)::int FROM operations WHERE status = 'pending') AS pending,
             (SELECT count(*)::int FROM entries) AS entries,
             (SELECT coalesce(sum(abs(balance)), 0)::text FROM wallets) AS moved`);
    expect(during.rows[0]).toEqual({ pending: 5, entries: 0, moved: "0" });

    const killedAt = performance.now();
    await crashing.kill();
    await system.spawnWorker();
    await waitAllSettled(system, 60_000);
    const seconds = (performance.now() - killedAt) / 1000;

    const ops = await system.db.execute<{ id: string; status: string; failure_code: string | null }>(
      sql`SELECT id, status, failure_code FROM operations ORDER BY seq`,
    );
    expect(ops.rows).toEqual([
      ...accepted.slice(0, 4).map((id) => ({ id, status: "succeeded", failure_code: null })),
      // 1000 - 100 - 200 - 300 leaves 400: the last transfer of 900 fails, exactly as applied alone.
      { id: accepted[4], status: "failed", failure_code: "insufficient_funds" },
    ]);
    expect((await api.get(`/v1/wallets/${a}`)).body).toMatchObject({ balance: 400, version: 4 });
    expect((await api.get(`/v1/wallets/${b}`)).body).toMatchObject({ balance: 600, version: 3 });
    const chain = (await api.get(`/v1/wallets/${a}/entries`)).body.data.map(
      (e: { amount: number; balanceAfter: number }) => [e.amount, e.balanceAfter],
    );
    expect(chain).toEqual([
      [-300, 400],
      [-200, 700],
      [-100, 900],
      [1_000, 1_000],
    ]);
    const audit = await auditLedger(system.db, { pendingBoundSeconds: 0 });
    expect(audit.checks.filter((c) => c.violations > 0)).toEqual([]);
    console.log(
      `[faults] worker killed before COMMIT: batch applied whole by another worker ${seconds.toFixed(1)} s later`,
    );
  }, 90_000);
});
