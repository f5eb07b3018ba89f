import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadlockCount } from "../../shared/db/settings-repo.ts";
import { type Api, newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import { expectAuditClean } from "../helpers/money.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";
import { createEndpoint, payloadOf, type Receiver, startReceiver } from "../helpers/webhooks.ts";

/**
 * A hold is captured or voided at most once, whatever arrives concurrently (docs/api.md, "Holds"),
 * and expiry is one system void per hold however many workers sweep. Two worker processes,
 * each with a sweeper every 100 ms.
 */

let system: TestSystem;
let api: Api;
let receiver: Receiver;

beforeAll(async () => {
  system = await startSystem({
    partitions: 4,
    workerProcesses: 2,
    apiSettings: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" },
    workerSettings: {
      SWEEP_INTERVAL_MS: "100",
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
      WEBHOOK_POLL_INTERVAL_MS: "100",
    },
  });
  api = await newClient(system);
  receiver = await startReceiver();
  receiver.secret = (await createEndpoint(api, receiver.url)).secret;
});
afterAll(async () => {
  await system?.stop();
  await receiver?.close();
});

const wallet = async (id: string) => (await api.get(`/v1/wallets/${id}`)).body;

describe("capture and void of one hold sent at once", () => {
  it("50 times over: exactly one of the two wins each time, the money moved at most once", async () => {
    const a = await newWallet(api);
    const b = await newWallet(api);
    await api.settle((await api.topUp(a, 5_000)).body.id);
    const deadlocks = await deadlockCount(system.db);
    const holds: string[] = [];
    for (let i = 0; i < 50; i++) holds.push((await api.hold(a, b, 10)).body.id);
    const raced = await Promise.all(
      holds.map(async (h) => {
        const [c, v] = await Promise.all([api.capture(h, 7), api.void(h)]);
        return { hold: h, capture: c.body.id as string, void: v.body.id as string };
      }),
    );
    await waitAllSettled(system);
    let captured = 0;
    for (const r of raced) {
      const [c, v, h] = await Promise.all([
        api.get(`/v1/operations/${r.capture}`),
        api.get(`/v1/operations/${r.void}`),
        api.get(`/v1/operations/${r.hold}`),
      ]);
      const winners = [c.body, v.body].filter((o) => o.status === "succeeded");
      expect(winners).toHaveLength(1);
      const loser = [c.body, v.body].find((o) => o.status === "failed");
      expect(loser.failure.code).toBe("hold_not_active");
      expect(h.body.hold.status).toBe(winners[0].type === "capture" ? "captured" : "voided");
      if (winners[0].type === "capture") captured++;
    }
    expect(await wallet(a)).toMatchObject({ balance: 5_000 - 7 * captured, heldBalance: 0 });
    expect(await wallet(b)).toMatchObject({ balance: 7 * captured, version: captured });
    await expectAuditClean(system);
    expect(await deadlockCount(system.db)).toBe(deadlocks);
  });
});

describe("expiry", () => {
  it("a hold of 1 s is voided by the system, once however many sweepers run, and announced by webhook", async () => {
    const a = await newWallet(api);
    const b = await newWallet(api);
    await api.settle((await api.topUp(a, 100)).body.id);
    const hold = await api.settle((await api.hold(a, b, 60, { expiresInSeconds: 1 })).body.id);
    expect(hold.hold.status).toBe("active");
    expect((await wallet(a)).availableBalance).toBe(40);

    // Two workers sweep every 100 ms: the void appears within a few sweeps after the expiry.
    let voids: { id: string; status: string; metadata: Record<string, string> }[] = [];
    await expect
      .poll(
        async () => {
          voids = (await api.get(`/v1/operations?walletId=${a}&type=void`)).body.data;
          return voids.length === 1 && voids[0]?.status === "succeeded";
        },
        { timeout: 15_000, interval: 100 },
      )
      .toBe(true);
    const [expiry] = voids;
    expect(expiry).toMatchObject({ amount: 60, holdId: hold.id, metadata: { reason: "expired" } });
    expect((await api.get(`/v1/operations/${hold.id}`)).body.hold).toMatchObject({
      status: "expired",
      releasedAt: expect.any(String),
    });
    expect(await wallet(a)).toMatchObject({ balance: 100, heldBalance: 0, availableBalance: 100 });
    // Many sweeps later, still one void.
    await new Promise((r) => setTimeout(r, 500));
    const count = await system.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM operations WHERE hold_id = ${hold.id}`,
    );
    expect(count.rows[0]?.n).toBe(1);

    // Announced like any operation: operation.succeeded for the system's void.
    await expect
      .poll(() => receiver.received.some((r) => payloadOf(r).data.id === expiry?.id), { timeout: 15_000 })
      .toBe(true);
    const announced = payloadOf(receiver.received.find((r) => payloadOf(r).data.id === expiry?.id));
    expect(announced).toMatchObject({
      type: "operation.succeeded",
      data: { type: "void", holdId: hold.id, metadata: { reason: "expired" } },
    });
    // The hold's own event carries the hold as it was placed, whatever became of it since.
    const placed = payloadOf(receiver.received.find((r) => payloadOf(r).data.id === hold.id));
    expect(placed.data).toMatchObject({ type: "hold", hold: { status: "active", releasedAt: null } });
    await expectAuditClean(system);
  });

  it("expiry racing a capture, 10 holds: one wins, never both", async () => {
    const a = await newWallet(api);
    const b = await newWallet(api);
    await api.settle((await api.topUp(a, 1_000)).body.id);
    const holds: string[] = [];
    for (let i = 0; i < 10; i++)
      holds.push((await api.hold(a, b, 20, { expiresInSeconds: 1 })).body.id as string);
    const started = Date.now();
    // Captures sent around the expiry: some accepted before it, some after.
    const captures = await Promise.all(
      holds.map(async (h, i) => {
        await new Promise((r) => setTimeout(r, Math.max(0, 800 + i * 50 - (Date.now() - started))));
        return (await api.capture(h, 20)).body.id as string;
      }),
    );
    await expect
      .poll(
        async () => {
          const r = await system.db.execute<{ n: number }>(
            sql`SELECT count(*)::int AS n FROM holds WHERE operation_id IN ${holds} AND status = 'active'`,
          );
          return r.rows[0]?.n;
        },
        { timeout: 15_000 },
      )
      .toBe(0);
    await waitAllSettled(system);
    let captured = 0;
    for (const [i, h] of holds.entries()) {
      const state = (await api.get(`/v1/operations/${h}`)).body.hold.status;
      const capture = (await api.get(`/v1/operations/${captures[i]}`)).body;
      const voids = (
        await system.db.execute<{ status: string }>(
          sql`SELECT status FROM operations WHERE hold_id = ${h} AND type = 'void'`,
        )
      ).rows;
      if (state === "captured") {
        captured++;
        expect(capture.status).toBe("succeeded");
        expect(voids.every((v) => v.status === "failed")).toBe(true);
      } else {
        expect(state).toBe("expired");
        expect(capture).toMatchObject({ status: "failed", failure: { code: "hold_not_active" } });
        expect(voids.map((v) => v.status)).toEqual(["succeeded"]);
      }
    }
    console.log(`[holds] expiry racing captures: ${captured} of 10 holds captured, the rest expired`);
    expect(await wallet(a)).toMatchObject({ balance: 1_000 - 20 * captured, heldBalance: 0 });
    expect(await wallet(b)).toMatchObject({ balance: 20 * captured });
    await expectAuditClean(system);
  });
});
