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
import {
  createEndpoint,
  payloadOf,
  type Receiver,
  startReceiver,
  storedDeliveries,
  until,
} from "../helpers/webhooks.ts";

/**
 * Who may refund (docs/api.md, "Refunds"): only the receiver of a transfer or capture. Its submitter
 * is told it is not refundable (422); a third client learns nothing, the answer being exactly
 * that for an unknown id (404). A refund's webhooks go to the refunder, as every operation's go
 * to its submitter.
 */

let system: TestSystem;
let alice: Api;
let bob: Api;
let carol: Api;
let aliceWallet: string;
let bobWallet: string;
/** Alice paid Bob 50. */
let transfer: string;
let receiver: Receiver;
let before: MoneySnapshot;
const UNKNOWN_ID = "01900000-0000-7000-8000-000000000000";

beforeAll(async () => {
  system = await startSystem({
    partitions: 2,
    apiSettings: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" },
    workerSettings: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true", WEBHOOK_POLL_INTERVAL_MS: "100" },
    workerProcesses: 1,
  });
  alice = await newClient(system, "alice");
  bob = await newClient(system, "bob");
  carol = await newClient(system, "carol");
  aliceWallet = await newWallet(alice);
  bobWallet = await newWallet(bob);
  await alice.settle((await alice.topUp(aliceWallet, 100)).body.id);
  transfer = (await alice.settle((await alice.transfer(aliceWallet, bobWallet, 50)).body.id)).id;
  receiver = await startReceiver();
});
afterAll(async () => {
  await system?.stop();
  await receiver?.close();
});
beforeEach(async () => {
  await waitAllSettled(system);
  before = await moneySnapshot(system);
});

const refundedAmount = async () => (await alice.get(`/v1/operations/${transfer}`)).body.refundedAmount;

describe("only the receiver refunds", () => {
  it("the submitter of the original (the payer): 422 operation_not_refundable, nothing created", async () => {
    const k = randomUUID();
    expectProblem(await alice.refund(transfer, 10, {}, k), "operation_not_refundable");
    expect(await operationsWithKey(system, k)).toBe(0);
    await expectNothingMoved(system, before);
    expect(await refundedAmount()).toBe(0);
  });

  it("a third client: 404 operation_not_found, the same body as for an unknown id, nothing created", async () => {
    const k = randomUUID();
    const foreign = await carol.refund(transfer, 10, {}, k);
    const missing = await carol.refund(UNKNOWN_ID, 10, {}, randomUUID());
    expectProblem(foreign, "operation_not_found");
    expectProblem(missing, "operation_not_found");
    expect(problemWithoutRequestId(foreign)).toEqual(problemWithoutRequestId(missing));
    expect(await operationsWithKey(system, k)).toBe(0);
    await expectNothingMoved(system, before);
  });

  it("a third client, an original whose every wallet is another's: 404 whatever its type or amount", async () => {
    const aliceOther = await newWallet(alice);
    const own = await alice.settle((await alice.transfer(aliceWallet, aliceOther, 5)).body.id);
    await waitAllSettled(system);
    before = await moneySnapshot(system);
    for (const amount of [undefined, 1, 10_000]) {
      expectProblem(await carol.refund(own.id, amount), "operation_not_found");
    }
    await expectNothingMoved(system, before);
  });

  it("the receiver refunds though it cannot read the original, which stays the payer's", async () => {
    expect((await bob.get(`/v1/operations/${transfer}`)).status).toBe(404);
    const refund = await bob.settle((await bob.refund(transfer, 10)).body.id);
    expect(refund).toMatchObject({ status: "succeeded", fromWalletId: bobWallet, toWalletId: aliceWallet });
    // The refund is Bob's operation; Alice sees its money on her entries.
    expect((await alice.get(`/v1/operations/${refund.id}`)).status).toBe(404);
    const entries = (await alice.get(`/v1/wallets/${aliceWallet}/entries`)).body.data;
    expect(entries[0]).toMatchObject({ operationId: refund.id, amount: 10, balanceAfter: 55 });
    expect(await refundedAmount()).toBe(10);
  });

  it("a refund's webhook goes to the refunder's endpoint, not the payer's", async () => {
    receiver.secret = (await createEndpoint(bob, receiver.url)).secret;
    const alices = await createEndpoint(alice, `${receiver.url}/alice`);
    const refund = await bob.settle((await bob.refund(transfer, 5)).body.id);
    await until("the refund's webhook", () =>
      receiver.received.some((q) => payloadOf(q).data.id === refund.id),
    );
    const delivered = receiver.received.filter((q) => payloadOf(q).data.id === refund.id);
    expect(payloadOf(delivered[0])).toMatchObject({
      type: "operation.succeeded",
      data: { type: "refund", refundOf: transfer, amount: 5, refundedAmount: null },
    });
    // Deliveries are written in the transaction that completes the operation: none for Alice.
    expect((await storedDeliveries(system, alices.id)).filter((d) => d.operation_id === refund.id)).toEqual(
      [],
    );
  });
});
