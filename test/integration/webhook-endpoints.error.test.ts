import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MAX_ENDPOINTS_PER_CLIENT } from "../../shared/db/webhook-endpoint-repo.ts";
import { type Api, newClient } from "../helpers/http.ts";
import { expectNothingMoved, type MoneySnapshot, moneySnapshot } from "../helpers/money.ts";
import { expectProblem, problemWithoutRequestId } from "../helpers/problem.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";
import { createEndpoint, tableResolver } from "../helpers/webhooks.ts";

let system: TestSystem;
let api: Api & { clientId: string };
let endpointId: string;
let before: MoneySnapshot;
let endpointsBefore: number;

const URL_OK = "https://hooks.example.test/in";
const UNKNOWN_ID = "01900000-0000-7000-8000-000000000000";
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

const endpointCount = async (): Promise<number> => {
  const r = await system.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM webhook_endpoints`);
  return r.rows[0]?.n ?? -1;
};

beforeAll(async () => {
  // No worker: these requests are refused before anything could be delivered.
  system = await startSystem({
    partitions: 2,
    apiResolveHost: tableResolver({ "hooks.example.test": ["93.184.215.14"] }),
  });
  api = await newClient(system);
  endpointId = (await createEndpoint(api, URL_OK)).id;
});
afterAll(async () => system?.stop());
beforeEach(async () => {
  before = await moneySnapshot(system);
  endpointsBefore = await endpointCount();
});

/** Nothing was created: no endpoint, no money row. */
async function expectNothingCreated(): Promise<void> {
  expect(await endpointCount()).toBe(endpointsBefore);
  await expectNothingMoved(system, before);
}

const rawPost = (body: string, contentType = "application/json") =>
  api.request("POST", "/v1/webhook-endpoints", { rawBody: body, headers: { "content-type": contentType } });

describe("POST /v1/webhook-endpoints: invalid bodies are 400 validation_error and create nothing", () => {
  it.each([
    ["no url", {}, "body.url"],
    ["a null url", { url: null }, "body.url"],
    ["a numeric url", { url: 42 }, "body.url"],
    ["an empty url", { url: "" }, "body.url"],
    ["a relative url", { url: "/hooks" }, "body.url"],
    ["text that is not a URL", { url: "hooks dot example" }, "body.url"],
    ["an ftp url", { url: "ftp://hooks.example.test/in" }, "body.url"],
    ["a javascript: url", { url: "javascript:alert(1)" }, "body.url"],
    ["a file: url", { url: "file:///etc/passwd" }, "body.url"],
    ["a url with a user name and password", { url: "https://u:p@hooks.example.test/in" }, "body.url"],
    ["a url on port 0", { url: "https://hooks.example.test:0/in" }, "body.url"],
    ["a url over 2048 characters", { url: `https://hooks.example.test/${"a".repeat(2_048)}` }, "body.url"],
    ["a url whose name does not resolve", { url: "https://nowhere.example.test/in" }, "body.url"],
    ["empty events", { url: URL_OK, events: [] }, "body.events"],
    ["an unknown event type", { url: URL_OK, events: ["operation.pending"] }, "body.events.0"],
    ["a wildcard event type", { url: URL_OK, events: ["*"] }, "body.events.0"],
    [
      "the same event twice",
      { url: URL_OK, events: ["operation.failed", "operation.failed"] },
      "body.events",
    ],
    ["events that are a string", { url: URL_OK, events: "operation.failed" }, "body.events"],
    ["null events", { url: URL_OK, events: null }, "body.events"],
    ["an unknown field", { url: URL_OK, secret: "whsec_AAAA" }, "body"],
  ])("%s", async (_, body, path) => {
    expectProblem(await api.post("/v1/webhook-endpoints", body), "validation_error", { paths: [path] });
    await expectNothingCreated();
  });

  it("reports every invalid field at once", async () => {
    const r = await api.post("/v1/webhook-endpoints", { url: "ftp://x", events: ["nope"] });
    expectProblem(r, "validation_error", { paths: ["body.url", "body.events.0"] });
    await expectNothingCreated();
  });

  it.each([
    ["malformed JSON", '{"url": "https://hooks.example.test/in"'],
    ["a JSON array", "[]"],
    ["JSON null", "null"],
  ])("%s", async (_, raw) => {
    expectProblem(await rawPost(raw), "validation_error");
    await expectNothingCreated();
  });

  it("a POST whose Content-Type is text/plain is 415 unsupported_media_type", async () => {
    expectProblem(await rawPost(JSON.stringify({ url: URL_OK }), "text/plain"), "unsupported_media_type");
    await expectNothingCreated();
  });

  it("a body over 64 KiB is 413 payload_too_large", async () => {
    const body = JSON.stringify({ url: URL_OK });
    expectProblem(await rawPost(body + " ".repeat(64 * 1024 + 1 - body.length)), "payload_too_large");
    await expectNothingCreated();
  });
});

describe(`at most ${MAX_ENDPOINTS_PER_CLIENT} live endpoints per client`, () => {
  it("one more is 400 validation_error and creates nothing; deleting one makes room", async () => {
    const client = await newClient(system, "many-endpoints");
    const ids: string[] = [];
    for (let i = 0; i < MAX_ENDPOINTS_PER_CLIENT; i++) ids.push((await createEndpoint(client, URL_OK)).id);
    endpointsBefore = await endpointCount();
    before = await moneySnapshot(system);
    const r = await client.post("/v1/webhook-endpoints", { url: URL_OK });
    expectProblem(r, "validation_error");
    expect(r.body.detail).toContain(String(MAX_ENDPOINTS_PER_CLIENT));
    await expectNothingCreated();
    // Another client is not affected.
    expect((await api.post("/v1/webhook-endpoints", { url: URL_OK })).status).toBe(201);
    expect((await client.request("DELETE", `/v1/webhook-endpoints/${ids[0]}`)).status).toBe(204);
    expect((await client.post("/v1/webhook-endpoints", { url: URL_OK })).status).toBe(201);
  });
});

describe("concurrent creations respect the bound", () => {
  it(`${MAX_ENDPOINTS_PER_CLIENT + 8} at once: exactly ${MAX_ENDPOINTS_PER_CLIENT} are created`, async () => {
    const client = await newClient(system, "racing");
    before = await moneySnapshot(system);
    const replies = await Promise.all(
      Array.from({ length: MAX_ENDPOINTS_PER_CLIENT + 8 }, () =>
        client.post("/v1/webhook-endpoints", { url: URL_OK }),
      ),
    );
    expect(replies.filter((r) => r.status === 201)).toHaveLength(MAX_ENDPOINTS_PER_CLIENT);
    for (const r of replies.filter((x) => x.status !== 201)) expectProblem(r, "validation_error");
    const live = await system.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM webhook_endpoints WHERE client_id = ${client.clientId} AND deleted_at IS NULL`,
    );
    expect(live.rows[0]?.n).toBe(MAX_ENDPOINTS_PER_CLIENT);
    await expectNothingMoved(system, before);
  });
});

describe("an endpoint that is not there is 404 not_found, whatever the reason", () => {
  it("unknown, malformed and deleted ids answer alike on DELETE and on the deliveries list", async () => {
    const deleted = (await createEndpoint(api, URL_OK)).id;
    expect((await api.request("DELETE", `/v1/webhook-endpoints/${deleted}`)).status).toBe(204);
    endpointsBefore = await endpointCount();
    const answers = [];
    for (const id of [UNKNOWN_ID, "not-a-uuid", deleted, "%20"]) {
      const del = await api.request("DELETE", `/v1/webhook-endpoints/${id}`);
      const list = await api.get(`/v1/webhook-endpoints/${id}/deliveries`);
      expectProblem(del, "not_found");
      expectProblem(list, "not_found");
      answers.push(problemWithoutRequestId(del), problemWithoutRequestId(list));
    }
    for (const a of answers) expect(a).toEqual(answers[0]);
    await expectNothingCreated();
  });

  it("routes the contract does not have are 404 not_found", async () => {
    expectProblem(await api.get(`/v1/webhook-endpoints/${endpointId}`), "not_found");
    expectProblem(await api.request("PUT", `/v1/webhook-endpoints/${endpointId}`, { body: {} }), "not_found");
    expectProblem(await api.request("DELETE", "/v1/webhook-endpoints"), "not_found");
    expect((await api.get("/v1/webhook-endpoints")).body.data.map((e: { id: string }) => e.id)).toContain(
      endpointId,
    );
  });
});

describe("list parameters out of range are 400 validation_error, never clamped", () => {
  const lists = [
    ["GET /v1/webhook-endpoints", () => "/v1/webhook-endpoints"],
    ["GET /v1/webhook-endpoints/:id/deliveries", () => `/v1/webhook-endpoints/${endpointId}/deliveries`],
  ] as const;

  describe.each(lists)("%s", (_, path) => {
    it.each(["0", "101", "-1", "abc", "1.5"])("limit=%s", async (limit) => {
      expectProblem(await api.get(`${path()}?limit=${limit}`), "validation_error", {
        paths: ["query.limit"],
      });
    });

    it.each([
      ["an empty cursor", ""],
      ["a cursor that is not base64url JSON", "!!!"],
      ["a cursor with unknown fields", cursorOf({ after: UNKNOWN_ID, extra: true })],
      ["a cursor whose position is not an id", cursorOf({ after: "2" })],
    ])("%s", async (_, cursor) => {
      expectProblem(await api.get(`${path()}?cursor=${cursor}`), "validation_error", {
        paths: ["query.cursor"],
      });
    });

    it("a well-formed cursor is accepted", async () => {
      expect((await api.get(`${path()}?cursor=${cursorOf({ after: UNKNOWN_ID })}`)).status).toBe(200);
    });
  });
});
