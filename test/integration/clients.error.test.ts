import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Api, newClient } from "../helpers/http.ts";
import { expectNothingMoved, type MoneySnapshot, moneySnapshot } from "../helpers/money.ts";
import { expectProblem } from "../helpers/problem.ts";
import { ADMIN_TOKEN, startSystem, type TestSystem } from "../helpers/system.ts";

let system: TestSystem;
let admin: Api;
let before: MoneySnapshot;

beforeAll(async () => {
  system = await startSystem({ partitions: 2, workerProcesses: 1 });
  admin = new Api(system, ADMIN_TOKEN);
});
afterAll(async () => system?.stop());
beforeEach(async () => {
  before = await moneySnapshot(system);
});

const rawPost = (api: Api, body: string, contentType = "application/json") =>
  api.request("POST", "/v1/clients", { rawBody: body, headers: { "content-type": contentType } });

/** `json` padded with trailing spaces (still valid JSON) to exactly `bytes` bytes. */
const padded = (json: string, bytes: number) => json + " ".repeat(bytes - Buffer.byteLength(json));

describe("POST /v1/clients: invalid bodies are 400 validation_error and create nothing", () => {
  it.each([
    ["a missing name", {}],
    ["an empty name", { name: "" }],
    ["a name of 201 characters", { name: "n".repeat(201) }],
    ["a number as name", { name: 42 }],
    ["a null name", { name: null }],
    ["a name containing U+0000", { name: "a\u0000b" }],
  ])("%s", async (_, body) => {
    expectProblem(await admin.post("/v1/clients", body), "validation_error", { paths: ["body.name"] });
    await expectNothingMoved(system, before);
  });

  it("a name with a lone surrogate (not well-formed Unicode)", async () => {
    const r = await rawPost(admin, '{"name":"bad \\ud800 half"}');
    expectProblem(r, "validation_error", { paths: ["body.name"] });
    await expectNothingMoved(system, before);
  });

  it("an unknown field, even beside a valid name", async () => {
    const r = await admin.post("/v1/clients", { name: "ok", apiKey: "sk_mine" });
    expectProblem(r, "validation_error", { paths: ["body"] });
    expect(r.body.errors[0].message).toContain("apiKey");
    await expectNothingMoved(system, before);
  });

  it.each([
    ["an array", "[]"],
    ["a string", '"acme"'],
    ["null", "null"],
  ])("a body that is %s, not an object", async (_, raw) => {
    expectProblem(await rawPost(admin, raw), "validation_error");
    await expectNothingMoved(system, before);
  });

  it("malformed JSON", async () => {
    expectProblem(await rawPost(admin, '{"name": "acme",'), "validation_error");
    await expectNothingMoved(system, before);
  });
});

describe("POST /v1/clients: media type and size", () => {
  it.each([
    ["text/plain", "text/plain"],
    ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded"],
    ["a JSON variant that is not application/json", "application/merge-patch+json"],
    ["a charset other than UTF-8", "application/json; charset=latin1"],
  ])("%s is 415 unsupported_media_type", async (_, type) => {
    expectProblem(await rawPost(admin, '{"name":"acme"}', type), "unsupported_media_type");
    await expectNothingMoved(system, before);
  });

  it("a body over 64 KiB is 413 payload_too_large; exactly 64 KiB is read", async () => {
    const json = JSON.stringify({ name: "big" });
    expectProblem(await rawPost(admin, padded(json, 64 * 1024 + 1)), "payload_too_large");
    await expectNothingMoved(system, before);
    const atLimit = await rawPost(admin, padded(json, 64 * 1024));
    expect(atLimit.status).toBe(201);
    expect(atLimit.body.name).toBe("big");
  });
});

describe("POST /v1/clients: only the operator", () => {
  it("is 401 unauthorized without a key and with a wrong one, 403 forbidden with a client's key", async () => {
    const client = await newClient(system);
    before = await moneySnapshot(system);
    expectProblem(await new Api(system).post("/v1/clients", { name: "x" }), "unauthorized");
    expectProblem(
      await new Api(system, `${ADMIN_TOKEN}x`).post("/v1/clients", { name: "x" }),
      "unauthorized",
    );
    expectProblem(await client.post("/v1/clients", { name: "x" }), "forbidden");
    await expectNothingMoved(system, before);
  });

  it("checks the key before the body: a client's key with an invalid body is still 403", async () => {
    const client = await newClient(system);
    before = await moneySnapshot(system);
    expectProblem(await client.post("/v1/clients", { name: "" }), "forbidden");
    expectProblem(await new Api(system).post("/v1/clients", { name: "" }), "unauthorized");
    await expectNothingMoved(system, before);
  });
});
