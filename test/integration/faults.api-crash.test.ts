import { spawn } from "node:child_process";
import { once } from "node:events";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { ADMIN_TOKEN, startSystem, type TestSystem } from "../helpers/system.ts";
import { freePort } from "../helpers/throwaway.ts";

let system: TestSystem;
let api: Api;

beforeAll(async () => {
  system = await startSystem({
    partitions: 4,
    workerProcesses: 1,
    workerSettings: { SWEEP_INTERVAL_MS: "300", SWEEP_GRACE_MS: "1000" },
  });
  api = await newClient(system);
});
afterAll(async () => system?.stop());

describe("api killed after an insert, before its doorbell", () => {
  it("the operation is durable, settles exactly once through the sweeper, and a retry replays it", async () => {
    const wallet = await newWallet(api);
    const port = await freePort();
    const child = spawn(process.execPath, ["test/helpers/crashing-api.ts"], {
      env: {
        PATH: process.env.PATH ?? "",
        ...system.workerEnv,
        PORT: String(port),
        ADMIN_TOKEN,
        LOG_LEVEL: "silent",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve) =>
      child.stdout?.on("data", (d: Buffer) => d.includes("listening") && resolve()),
    );
    const exited = once(child, "exit");

    const sent = fetch(`http://127.0.0.1:${port}/v1/top-ups`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${api.key}`,
        "content-type": "application/json",
        "idempotency-key": "crash-1",
      },
      body: JSON.stringify({ walletId: wallet, amount: 700 }),
    });
    await expect(sent).rejects.toThrow(); // the connection dies with the process: no answer at all
    const [, signal] = await exited;
    expect(signal).toBe("SIGKILL");

    const started = performance.now();
    await expect
      .poll(async () => (await api.get(`/v1/wallets/${wallet}`)).body.balance, {
        timeout: 15_000,
        interval: 100,
      })
      .toBe(700);
    console.log(
      `[faults] api crash: settled by the sweeper ${((performance.now() - started) / 1000).toFixed(1)} s later`,
    );

    // The client retries under the same key (it never got an answer): the same operation, once.
    const retry = await api.topUp(wallet, 700, "crash-1");
    expect(retry.status).toBe(202);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.body.status).toBe("succeeded");
    const ops = await system.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM operations WHERE idempotency_key = 'crash-1'`,
    );
    expect(ops.rows[0]?.n).toBe(1);
    expect((await api.get(`/v1/wallets/${wallet}`)).body).toMatchObject({ balance: 700, version: 1 });
  });
});
