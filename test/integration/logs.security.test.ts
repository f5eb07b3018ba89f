import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../shared/logger.ts";
import { Api, newClient, newWallet } from "../helpers/http.ts";
import {
  ADMIN_TOKEN,
  spawnWorkerProcess,
  startSystem,
  type TestSystem,
  waitForLine,
} from "../helpers/system.ts";

/** Everything a logger writes, as text. */
class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
  // biome-ignore lint/suspicious/noExplicitAny: log lines are arbitrary JSON
  lines(): any[] {
    return this.text
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l));
  }
}

const apiLog = new Capture();
let workerLog = "";
let worker: ChildProcess;
let system: TestSystem;
let api: Api & { clientId: string };
let operationId: string;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const BODY_SECRET = "body-value-never-logged";

beforeAll(async () => {
  system = await startSystem({ partitions: 2, logger: createLogger("api", "info", apiLog) });
  // A worker at debug level (the ids of each batch), its whole output kept.
  worker = spawnWorkerProcess({ ...system.workerEnv, LOG_LEVEL: "debug" });
  worker.stdout?.on("data", (c: Buffer) => {
    workerLog += c.toString();
  });
  await waitForLine(worker, "worker started");

  api = await newClient(system);
  const a = await newWallet(api, { metadata: { note: BODY_SECRET } });
  const b = await newWallet(api);
  operationId = (await api.topUp(a, 500)).body.id;
  await api.settle(operationId);
  const transfer = await api.post(
    "/v1/transfers",
    { fromWalletId: a, toWalletId: b, amount: 100, metadata: { note: BODY_SECRET } },
    { "idempotency-key": "logged-transfer", "x-request-id": "caller-request-1" },
  );
  await api.settle(transfer.body.id);
  // Failed authentications: a wrong client key, a wrong operator token, a key in a wrong scheme.
  await new Api(system, "sk_wrong_key_that_must_not_be_logged").get("/v1/wallets");
  await new Api(system, `${ADMIN_TOKEN}-wrong`).post("/v1/clients", { name: "x" });
  await api.get(`/v1/wallets/${a}`, { authorization: `Basic ${api.key}` });
});
afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = once(worker, "exit");
    worker.kill("SIGTERM");
    await exited;
  }
  await system?.stop();
});

const REQUEST_LINE_FIELDS = new Set(
  "level time pid hostname name msg requestId clientId method route status durationMs".split(" "),
);

describe("logs", () => {
  it("never contain an API key, the operator's token or an Authorization value", () => {
    const all = apiLog.text + workerLog;
    expect(all).not.toContain(ADMIN_TOKEN);
    expect(all).not.toContain(api.key);
    expect(all).not.toContain(api.key?.slice(3)); // the key without its prefix
    expect(all).not.toContain("sk_wrong_key_that_must_not_be_logged");
    expect(all).not.toMatch(/Bearer|Basic /);
  });

  it("carry no request bodies", () => {
    expect(apiLog.text + workerLog).not.toContain(BODY_SECRET);
  });

  it("have one api line per request: request id, client id, method, route template, status, duration", () => {
    const requests = apiLog.lines().filter((l) => l.msg === "request");
    expect(requests.length).toBeGreaterThanOrEqual(10);
    for (const line of requests) {
      expect(line).toMatchObject({
        level: 30,
        name: "api",
        requestId: expect.stringMatching(/\S/),
        method: expect.stringMatching(/^(GET|POST)$/),
        route: expect.stringMatching(/^(\/|unmatched$)/),
        status: expect.any(Number),
        durationMs: expect.any(Number),
      });
      expect(line.route).not.toMatch(UUID);
      // Nothing else: the request line is logged without the redaction paths (api/middleware/request-context.ts).
      expect(Object.keys(line).filter((k) => !REQUEST_LINE_FIELDS.has(k))).toEqual([]);
    }
    const transfer = requests.find((l) => l.requestId === "caller-request-1");
    expect(transfer).toMatchObject({ clientId: api.clientId, route: "/v1/transfers", status: 202 });
    expect(requests.filter((l) => l.status === 401)).toHaveLength(3);
    const reads = requests.filter((l) => l.route === "/v1/operations/:id" && l.clientId === api.clientId);
    expect(reads.length).toBeGreaterThanOrEqual(2);
  });

  it("have worker batch lines with partition and batch size, and the operation ids at debug", () => {
    const batches = workerLog
      .split("\n")
      .filter((l) => l.includes('"batch committed"'))
      .map((l) => JSON.parse(l));
    expect(batches.length).toBeGreaterThanOrEqual(2);
    for (const b of batches) {
      expect(b).toMatchObject({
        level: 30,
        name: "worker",
        partitions: expect.any(Array),
        batchSize: expect.any(Number),
        succeeded: expect.any(Number),
        failed: expect.any(Number),
        durationMs: expect.any(Number),
        operationIds: expect.any(Array),
      });
      expect(b.operationIds).toHaveLength(b.batchSize);
    }
    expect(batches.flatMap((b) => b.operationIds)).toContain(operationId);
  });
});
