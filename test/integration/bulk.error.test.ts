import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import {
  expectAuditClean,
  expectNothingMoved,
  type MoneySnapshot,
  moneySnapshot,
  operationsWithKey,
} from "../helpers/money.ts";
import { expectProblem, PROBLEM_STATUS, type ProblemCode } from "../helpers/problem.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * A bulk is not all-or-nothing: every per-item code, provoked inside one mixed bulk, refuses its
 * item alone (with the single route's problem) while the others are accepted. The request as a
 * whole is refused, and nothing created, only for its envelope.
 */

let system: TestSystem;
let api: Api;
let other: Api;
let usd: string;
let usd2: string;
let eur: string;
let foreign: string;
let hold: string;
let before: MoneySnapshot;
const UNKNOWN_ID = "01900000-0000-7000-8000-000000000000";

beforeAll(async () => {
  system = await startSystem({ partitions: 2, workerProcesses: 1 });
  api = await newClient(system);
  other = await newClient(system, "other");
  usd = await newWallet(api);
  usd2 = await newWallet(api);
  eur = await newWallet(api, { currency: "EUR" });
  foreign = await newWallet(other);
  await api.settle((await api.topUp(usd, 1_000)).body.id);
  hold = (await api.settle((await api.hold(usd, usd2, 100)).body.id)).id;
});
afterAll(async () => system?.stop());
beforeEach(async () => {
  await waitAllSettled(system);
  before = await moneySnapshot(system);
});

const bulk = (operations: unknown) => api.post("/v1/operations/bulk", { operations });

describe("every per-item code in one mixed bulk", () => {
  it("refuses each bad item with its own problem; the good items between them are accepted and applied", async () => {
    await api.topUp(usd, 1, "taken");
    await waitAllSettled(system);
    const k = () => randomUUID();
    const items: [unknown, number, ProblemCode | null, string[]?][] = [
      [{ type: "top_up", idempotencyKey: k(), walletId: usd2, amount: 5 }, 202, null],
      [
        { type: "top_up", idempotencyKey: k(), walletId: usd2, amount: 1.5 },
        400,
        "validation_error",
        ["body.operations.1.amount"],
      ],
      [{ type: "teleport", idempotencyKey: k() }, 400, "validation_error", ["body.operations.2.type"]],
      [{ type: "top_up", walletId: usd2, amount: 5 }, 400, "idempotency_key_required"],
      [
        { type: "transfer", idempotencyKey: k(), fromWalletId: usd, toWalletId: usd, amount: 5 },
        400,
        "validation_error",
        ["body.operations.4.toWalletId"],
      ],
      [
        { type: "capture", idempotencyKey: k(), amount: 5 },
        400,
        "validation_error",
        ["body.operations.5.holdId"],
      ],
      [{ type: "transfer", idempotencyKey: k(), fromWalletId: usd, toWalletId: usd2, amount: 10 }, 202, null],
      [{ type: "payout", idempotencyKey: k(), walletId: foreign, amount: 5 }, 404, "wallet_not_found"],
      [
        { type: "transfer", idempotencyKey: k(), fromWalletId: usd, toWalletId: UNKNOWN_ID, amount: 5 },
        404,
        "wallet_not_found",
      ],
      [{ type: "void", idempotencyKey: k(), holdId: UNKNOWN_ID }, 404, "hold_not_found"],
      [
        { type: "hold", idempotencyKey: k(), fromWalletId: usd, toWalletId: eur, amount: 5 },
        422,
        "currency_mismatch",
      ],
      [{ type: "capture", idempotencyKey: k(), holdId: hold, amount: 101 }, 422, "amount_exceeds_hold"],
      [{ type: "top_up", idempotencyKey: "taken", walletId: usd, amount: 2 }, 422, "idempotency_key_reused"],
      [{ type: "capture", idempotencyKey: k(), holdId: hold, amount: 40 }, 202, null],
      // As a path's :id of any length is on the single route.
      [{ type: "void", idempotencyKey: k(), holdId: "x".repeat(101) }, 404, "hold_not_found"],
    ];
    const r = await bulk(items.map(([item]) => item));
    expect(r.status).toBe(200);
    const requestId = r.headers.get("x-request-id");
    expect(r.body.data).toHaveLength(items.length);
    for (const [i, [, status, code, paths]] of items.entries()) {
      const result = r.body.data[i];
      expect(result.status, `item ${i}: ${JSON.stringify(result)}`).toBe(status);
      if (code === null) {
        expect(Object.keys(result).sort()).toEqual(["operation", "replayed", "status"]);
        continue;
      }
      expect(Object.keys(result).sort()).toEqual(["error", "status"]);
      // The whole problem, as the single route answers it, with this request's id.
      expectProblem(
        {
          status: PROBLEM_STATUS[code],
          headers: new Headers({
            "content-type": "application/problem+json",
            "x-request-id": requestId ?? "",
          }),
          body: result.error,
        },
        code,
        paths ? { paths } : {},
      );
    }
    await waitAllSettled(system);
    expect((await api.get(`/v1/wallets/${usd}`)).body).toMatchObject({
      balance: 1_000 + 1 - 10 - 40,
      heldBalance: 0,
    });
    expect((await api.get(`/v1/wallets/${usd2}`)).body).toMatchObject({ balance: 5 + 10 + 40 });
    await expectAuditClean(system);
  });

  it("an idempotencyKey that begins or ends with a space is that item's 400 (a header cannot carry one: HTTP strips it)", async () => {
    const inner = `in ${randomUUID()} side`;
    const r = await bulk([
      { type: "top_up", idempotencyKey: ` lead-${randomUUID()}`, walletId: usd2, amount: 1 },
      { type: "top_up", idempotencyKey: `trail-${randomUUID()} `, walletId: usd2, amount: 1 },
      { type: "top_up", idempotencyKey: inner, walletId: usd2, amount: 1 },
    ]);
    expect(r.body.data.map((d: { status: number }) => d.status)).toEqual([400, 400, 202]);
    for (const i of [0, 1]) {
      expect(r.body.data[i].error.code).toBe("validation_error");
      expect(r.body.data[i].error.errors).toEqual([
        { path: `body.operations.${i}.idempotencyKey`, message: expect.any(String) },
      ]);
    }
    // The same key with inner spaces works as a header, and is the bulk item's operation.
    const single = await api.topUp(usd2, 1, inner);
    expect(single.status).toBe(202);
    expect(single.headers.get("idempotent-replayed")).toBe("true");
    expect(await operationsWithKey(system, inner)).toBe(1);
    await waitAllSettled(system);
    expect(
      (await api.get(`/v1/wallets/${usd2}`)).body.balance -
        Number(before.wallets.find((w) => w.id === usd2)?.balance),
    ).toBe(1);
  });

  it("an item with a repeated member name refuses the whole request: the body is not I-JSON", async () => {
    const r = await api.request("POST", "/v1/operations/bulk", {
      rawBody: `{"operations":[{"type":"top_up","idempotencyKey":"x","walletId":"${usd}","amount":1,"amount":2}]}`,
      headers: { "content-type": "application/json" },
    });
    expectProblem(r, "validation_error", { paths: ["body.operations.0.amount"] });
    await expectNothingMoved(system, before);
  });

  it("an item's __proto__ metadata key refuses that item alone", async () => {
    const r = await api.request("POST", "/v1/operations/bulk", {
      rawBody: `{"operations":[{"type":"top_up","idempotencyKey":"${randomUUID()}","walletId":"${usd}","amount":1,"metadata":{"__proto__":"x"}},{"type":"top_up","idempotencyKey":"${randomUUID()}","walletId":"${usd}","amount":1}]}`,
      headers: { "content-type": "application/json" },
    });
    expect(r.body.data.map((x: { status: number }) => x.status)).toEqual([400, 202]);
    expect(r.body.data[0].error.errors[0].path).toBe("body.operations.0.metadata.__proto__");
  });
});

describe("the envelope refused as a whole: nothing created", () => {
  it.each([
    ["operations missing", {}],
    ["operations not an array", { operations: { type: "top_up" } }],
    ["no item", { operations: [] }],
    ["an item that is not an object", { operations: [1] }],
    ["an unknown field beside operations", { operations: [{}], dryRun: true }],
  ])("%s: 400 validation_error", async (_, body) => {
    expectProblem(await api.post("/v1/operations/bulk", body), "validation_error");
    await expectNothingMoved(system, before);
  });

  it("1,001 items: 400 validation_error, not one created", async () => {
    const items = Array.from({ length: 1_001 }, (_, i) => ({
      type: "top_up",
      idempotencyKey: `too-many-${i}`,
      walletId: usd,
      amount: 1,
    }));
    expectProblem(await bulk(items), "validation_error", { paths: ["body.operations"] });
    expect(await operationsWithKey(system, "too-many-0")).toBe(0);
    await expectNothingMoved(system, before);
  });

  it("a body over 1 MiB: 413 payload_too_large; one of 100 KiB is fine on this route", async () => {
    const pad = "x".repeat(500);
    const item = (i: number, n: number) => ({
      type: "top_up",
      idempotencyKey: `big-${n}-${i}`,
      walletId: usd2,
      amount: 1,
      metadata: { a: pad, b: pad, c: pad },
    });
    const huge = Array.from({ length: 720 }, (_, i) => item(i, 1)); // ≈ 1.1 MiB
    expect(JSON.stringify({ operations: huge }).length).toBeGreaterThan(1.05 * 1_048_576);
    expectProblem(await bulk(huge), "payload_too_large");
    await expectNothingMoved(system, before);
    const r = await bulk(Array.from({ length: 65 }, (_, i) => item(i, 2))); // ≈ 100 KiB
    expect(r.status).toBe(200);
    expect(r.body.data.every((x: { status: number }) => x.status === 202)).toBe(true);
  });

  it("not JSON: 415 unsupported_media_type", async () => {
    const r = await api.request("POST", "/v1/operations/bulk", {
      rawBody: "operations=1",
      headers: { "content-type": "text/plain" },
    });
    expectProblem(r, "unsupported_media_type");
    await expectNothingMoved(system, before);
  });
});
