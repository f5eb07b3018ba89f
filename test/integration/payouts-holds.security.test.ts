import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import {
  expectNothingMoved,
  type MoneySnapshot,
  moneySnapshot,
  operationsWithKey,
} from "../helpers/money.ts";
import { expectProblem, problemWithoutRequestId } from "../helpers/problem.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * Another client's holds and wallets are reported exactly as missing ones (docs/api.md,
 * "Authentication"): a foreign hold is 404 `hold_not_found` like an unknown id, a payout or hold
 * from another client's wallet is 404 `wallet_not_found` like an unknown wallet. Any existing
 * wallet may still be a hold's destination.
 */

let system: TestSystem;
let alice: Api;
let bob: Api;
let aliceWallet: string;
let bobWallet: string;
let aliceHold: string;
let before: MoneySnapshot;
const UNKNOWN_ID = "01900000-0000-7000-8000-000000000000";

beforeAll(async () => {
  system = await startSystem({ partitions: 2, workerProcesses: 1 });
  alice = await newClient(system, "alice");
  bob = await newClient(system, "bob");
  aliceWallet = await newWallet(alice);
  bobWallet = await newWallet(bob);
  await alice.settle((await alice.topUp(aliceWallet, 100)).body.id);
  await bob.settle((await bob.topUp(bobWallet, 100)).body.id);
  aliceHold = (await alice.settle((await alice.hold(aliceWallet, bobWallet, 40)).body.id)).id;
});
afterAll(async () => system?.stop());
beforeEach(async () => {
  await waitAllSettled(system);
  before = await moneySnapshot(system);
});

describe("another client's hold is reported exactly as a missing one", () => {
  it.each([
    ["capture", (api: Api, id: string, k: string) => api.capture(id, 1, k)],
    ["void", (api: Api, id: string, k: string) => api.void(id, k)],
  ])("%s: 404 hold_not_found, the same body, nothing created", async (_, send) => {
    const k = randomUUID();
    const foreign = await send(bob, aliceHold, k);
    const missing = await send(bob, UNKNOWN_ID, randomUUID());
    expectProblem(foreign, "hold_not_found");
    expectProblem(missing, "hold_not_found");
    expect(problemWithoutRequestId(foreign)).toEqual(problemWithoutRequestId(missing));
    expect(await operationsWithKey(system, k)).toBe(0);
    await expectNothingMoved(system, before);
    expect((await alice.get(`/v1/operations/${aliceHold}`)).body.hold.status).toBe("active");
  });

  it("bob cannot read alice's hold operation", async () => {
    const foreign = await bob.get(`/v1/operations/${aliceHold}`);
    expectProblem(foreign, "not_found");
  });
});

describe("another client's wallet as the source is reported exactly as a missing one", () => {
  it.each([
    ["a payout", (api: Api, from: string) => api.payout(from, 5)],
    ["a hold", (api: Api, from: string) => api.hold(from, bobWallet, 5)],
  ])("%s from alice's wallet by bob: 404 wallet_not_found, no money reserved", async (_, send) => {
    const foreign = await send(bob, aliceWallet);
    const missing = await send(bob, UNKNOWN_ID);
    expectProblem(foreign, "wallet_not_found");
    expectProblem(missing, "wallet_not_found");
    expect(problemWithoutRequestId(foreign)).toEqual(problemWithoutRequestId(missing));
    await expectNothingMoved(system, before);
    expect((await alice.get(`/v1/wallets/${aliceWallet}`)).body).toMatchObject({
      balance: 100,
      heldBalance: 40,
    });
  });

  it("another client's wallet may be a hold's destination; its owner sees the captured money only", async () => {
    const capture = await alice.settle((await alice.capture(aliceHold, 15)).body.id);
    expect(capture.status).toBe("succeeded");
    expect((await bob.get(`/v1/wallets/${bobWallet}`)).body).toMatchObject({ balance: 115 });
    expect((await alice.get(`/v1/wallets/${aliceWallet}`)).body).toMatchObject({
      balance: 85,
      heldBalance: 0,
    });
    const bobsOps = (await bob.get("/v1/operations?limit=100")).body.data.map((o: { id: string }) => o.id);
    expect(bobsOps).not.toContain(capture.id);
  });
});
