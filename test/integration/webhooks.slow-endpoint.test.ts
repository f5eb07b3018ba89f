import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectRecovered } from "../helpers/faults.ts";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { steadyLoad } from "../helpers/load.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";
import {
  createEndpoint,
  type Receiver,
  type StoredDelivery,
  startReceiver,
  waitForDeliveries,
} from "../helpers/webhooks.ts";

/**
 * A receiver that never answers while another client runs a steady money load whose every
 * outcome goes to a healthy endpoint: the hung deliveries time out and end failed after the
 * configured attempts, and meanwhile operations keep settling and the healthy endpoint keeps
 * getting its deliveries. Real worker processes.
 */

let system: TestSystem;
let hung: Receiver;
let healthy: Receiver;
let loader: Api;
let wallets: string[];

const TIMEOUT_MS = 1_000;

beforeAll(async () => {
  hung = await startReceiver();
  hung.react = () => "hang";
  healthy = await startReceiver();
  system = await startSystem({
    partitions: 4,
    batchCap: 20,
    workerProcesses: 2,
    apiSettings: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" },
    workerSettings: {
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
      WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      WEBHOOK_RETRY_SCHEDULE: "0,0",
      WEBHOOK_POLL_INTERVAL_MS: "100",
      WEBHOOK_ENDPOINT_CONCURRENCY: "2",
    },
  });
  loader = await newClient(system, "loader");
  wallets = [];
  for (let i = 0; i < 8; i++) wallets.push(await newWallet(loader));
  for (const w of wallets) await loader.settle((await loader.topUp(w, 100_000)).body.id);
});
afterAll(async () => {
  await system?.stop();
  await Promise.all([hung?.close(), healthy?.close()]);
});

describe("an endpoint that never answers", () => {
  it("its deliveries fail after the configured attempts while money keeps settling and other endpoints get theirs", async () => {
    const loaderEndpoint = await createEndpoint(loader, healthy.url);
    healthy.secret = loaderEndpoint.secret;
    const stuck = await newClient(system, "stuck");
    const hungEndpoint = await createEndpoint(stuck, hung.url);
    hung.secret = hungEndpoint.secret;
    const stuckWallet = await newWallet(stuck);

    const load = steadyLoad(loader, wallets);
    let hungRows: StoredDelivery[];
    try {
      // Five outcomes for the hung endpoint: more than its slots (2 per worker process).
      for (let i = 0; i < 5; i++) await stuck.settle((await stuck.topUp(stuckWallet, 10)).body.id);
      hungRows = await waitForDeliveries(
        system,
        hungEndpoint.id,
        (d) => d.length === 5 && d.every((x) => x.status !== "pending"),
        90_000,
      );
    } finally {
      // Never leave the load running: the api could not stop under it.
      await load.stop();
    }
    const result = await load.stop();

    // The money: every accepted operation final, every ledger invariant holds, no worker crashed.
    await expectRecovered(system, result);
    expect((await stuck.get(`/v1/wallets/${stuckWallet}`)).body.balance).toBe(50);

    // The hung endpoint: every delivery failed after exactly the three attempts allowed, each a timeout.
    expect(hungRows.map((d) => [d.status, d.attempts])).toEqual(Array(5).fill(["failed", 3]));
    const errors = await system.db.execute<{ error: string; status_code: number | null }>(sql`
      SELECT DISTINCT a.error, a.status_code FROM webhook_attempts a
      JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = ${hungEndpoint.id}`);
    expect(errors.rows).toEqual([{ error: `no answer within ${TIMEOUT_MS} ms`, status_code: null }]);
    expect(hung.received).toHaveLength(15);

    // The healthy endpoint got one delivery per operation of the load, each verified.
    const loaded = await waitForDeliveries(
      system,
      loaderEndpoint.id,
      (d) => d.length >= result.accepted.size && d.every((x) => x.status === "succeeded"),
      90_000,
    );
    const delivered = new Set(loaded.map((d) => d.operation_id));
    for (const id of result.accepted) expect(delivered.has(id)).toBe(true);
    expect(healthy.received.every((r) => r.verified.ok)).toBe(true);

    // The measure: operations settled, and healthy deliveries made, while the hung endpoint was tried.
    const window = await system.db.execute<{ first: string; last: string; seconds: number }>(sql`
      SELECT min(a.attempted_at)::text AS first,
             max(a.attempted_at + make_interval(secs => a.duration_ms / 1000.0))::text AS last,
             extract(epoch FROM max(a.attempted_at + make_interval(secs => a.duration_ms / 1000.0))
                                - min(a.attempted_at))::float8 AS seconds
      FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
      WHERE d.endpoint_id = ${hungEndpoint.id}`);
    const w = window.rows[0];
    if (!w) throw new Error("no attempts");
    const during = await system.db.execute<{ settled: number; delivered: number }>(sql`
      SELECT (SELECT count(*)::int FROM operations
               WHERE completed_at BETWEEN ${w.first}::timestamptz AND ${w.last}::timestamptz) AS settled,
             (SELECT count(*)::int FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
               WHERE d.endpoint_id = ${loaderEndpoint.id} AND a.status_code = 200
                 AND a.attempted_at BETWEEN ${w.first}::timestamptz AND ${w.last}::timestamptz) AS delivered`);
    const { settled = 0, delivered: healthyDuring = 0 } = during.rows[0] ?? {};
    console.log(
      `[webhooks] receiver hung for ${w.seconds.toFixed(1)} s (15 attempts timed out, 5 deliveries failed): ` +
        `${settled} operations settled meanwhile (${(settled / w.seconds).toFixed(0)}/s) and ` +
        `${healthyDuring} deliveries to a healthy endpoint succeeded; ${result.accepted.size} accepted in all`,
    );
    expect(settled).toBeGreaterThan(0);
    expect(healthyDuring).toBeGreaterThan(0);
  }, 180_000);
});
