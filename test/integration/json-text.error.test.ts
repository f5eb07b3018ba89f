import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Api, newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import {
  expectNothingMoved,
  type MoneySnapshot,
  moneySnapshot,
  operationsWithKey,
} from "../helpers/money.ts";
import { expectProblem } from "../helpers/problem.ts";
import { ADMIN_TOKEN, startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * What the body's text says, not what `JSON.parse` makes of it (docs/api.md, "Conventions"): an
 * amount is an integer literal, an object never holds a name twice (I-JSON), and a metadata key
 * never vanishes.
 */

let system: TestSystem;
let api: Api;
let a: string;
let b: string;
let before: MoneySnapshot;

beforeAll(async () => {
  system = await startSystem({
    partitions: 2,
    workerProcesses: 1,
    // So that a webhook endpoint on the loopback would be accepted but for its repeated name.
    apiSettings: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" },
  });
  api = await newClient(system);
  a = await newWallet(api);
  b = await newWallet(api);
  expect((await api.settle((await api.topUp(a, 1_000)).body.id)).status).toBe("succeeded");
});
afterAll(async () => system?.stop());
beforeEach(async () => {
  await waitAllSettled(system);
  before = await moneySnapshot(system);
});

const post = (path: string, body: string, idempotencyKey = randomUUID()) =>
  api.request("POST", path, {
    rawBody: body,
    headers: { "content-type": "application/json", "idempotency-key": idempotencyKey },
  });

describe("amounts written with a fraction or an exponent are 400 validation_error, never rounded", () => {
  const literals = ["1.00000000000000001", "4503599627370496.5", "1.0", "1e2", "1E2", "100e-2", "5.000"];

  it.each(literals)("top-up of %s", async (literal) => {
    const r = await post("/v1/top-ups", `{"walletId":"${a}","amount":${literal}}`);
    expectProblem(r, "validation_error", { paths: ["body.amount"] });
    expect(r.body.errors[0].message).toContain(literal);
    await expectNothingMoved(system, before);
  });

  it.each(literals)("transfer of %s", async (literal) => {
    const r = await post("/v1/transfers", `{"fromWalletId":"${a}","toWalletId":"${b}","amount":${literal}}`);
    expectProblem(r, "validation_error", { paths: ["body.amount"] });
    await expectNothingMoved(system, before);
  });

  it("a number where a metadata string belongs says a number was sent", async () => {
    const r = await post("/v1/top-ups", `{"walletId":"${a}","amount":1,"metadata":{"n":1.5}}`);
    expectProblem(r, "validation_error", { paths: ["body.metadata.n"] });
    expect(r.body.errors[0].message).toMatch(/received number/);
    await expectNothingMoved(system, before);
  });

  it("an integer literal is still an amount: 100 tops up exactly 100", async () => {
    const r = await post("/v1/top-ups", `{"walletId":"${b}","amount":100}`);
    expect(r.status).toBe(202);
    expect((await api.settle(r.body.id)).amount).toBe(100);
    expect((await api.get(`/v1/wallets/${b}`)).body.balance).toBe(100);
  });
});

describe("an object with two members of the same name is 400 validation_error, on every route", () => {
  const cases: [string, string, string, string][] = [
    ["a repeated amount", "/v1/top-ups", `{"walletId":"WA","amount":5,"amount":7}`, "body.amount"],
    ["an escaped repeat", "/v1/top-ups", `{"walletId":"WA","amount":5,"am\\u006funt":7}`, "body.amount"],
    [
      "a repeated destination",
      "/v1/transfers",
      `{"fromWalletId":"WA","toWalletId":"WB","amount":5,"toWalletId":"WB"}`,
      "body.toWalletId",
    ],
    [
      "a repeated metadata key",
      "/v1/top-ups",
      `{"walletId":"WA","amount":5,"metadata":{"k":"1","k":"2"}}`,
      "body.metadata.k",
    ],
    ["a repeated wallet currency", "/v1/wallets", `{"currency":"USD","currency":"EUR"}`, "body.currency"],
    [
      "a repeated webhook url",
      "/v1/webhook-endpoints",
      `{"url":"http://127.0.0.1:9/a","url":"http://127.0.0.1:9/a"}`,
      "body.url",
    ],
  ];

  it.each(cases)("%s", async (_, path, template, errorPath) => {
    const r = await post(path, template.replaceAll("WA", a).replaceAll("WB", b));
    expectProblem(r, "validation_error", { paths: [errorPath] });
    await expectNothingMoved(system, before);
  });

  it("the operator's route too", async () => {
    const r = await new Api(system, ADMIN_TOKEN).request("POST", "/v1/clients", {
      rawBody: `{"name":"x","name":"y"}`,
      headers: { "content-type": "application/json" },
    });
    expectProblem(r, "validation_error", { paths: ["body.name"] });
    await expectNothingMoved(system, before);
  });
});

describe("a metadata key named __proto__ is refused, never dropped", () => {
  it("is a 400 naming the key, and moves nothing", async () => {
    const r = await post("/v1/top-ups", `{"walletId":"${a}","amount":5,"metadata":{"__proto__":"a"}}`);
    expectProblem(r, "validation_error", { paths: ["body.metadata.__proto__"] });
    await expectNothingMoved(system, before);
  });

  it("is not a replay of the same request without it: the key keeps its first body", async () => {
    const k = randomUUID();
    const first = await post("/v1/top-ups", `{"walletId":"${a}","amount":5,"metadata":{}}`, k);
    expect(first.status).toBe(202);
    await api.settle(first.body.id);
    const afterFirst = await moneySnapshot(system);
    const second = await post(
      "/v1/top-ups",
      `{"walletId":"${a}","amount":5,"metadata":{"__proto__":"a"}}`,
      k,
    );
    expectProblem(second, "validation_error", { paths: ["body.metadata.__proto__"] });
    expect(second.headers.get("idempotent-replayed")).toBeNull();
    expect(await operationsWithKey(system, k)).toBe(1);
    await expectNothingMoved(system, afterFirst);
  });

  it("on a wallet's metadata too", async () => {
    const r = await post("/v1/wallets", `{"metadata":{"__proto__":"x","ok":"y"}}`);
    expectProblem(r, "validation_error", { paths: ["body.metadata.__proto__"] });
    await expectNothingMoved(system, before);
  });
});
