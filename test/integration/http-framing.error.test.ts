import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet, type Reply } from "../helpers/http.ts";
import { expectNothingMoved, moneySnapshot } from "../helpers/money.ts";
import { expectProblem } from "../helpers/problem.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * Requests that Node's HTTP parser refuses before Express sees them are answered like every
 * other bad request (docs/api.md, "Errors"): a 400 `validation_error` problem with an
 * `X-Request-Id`, never a bare status line; the connection is closed and nothing moves.
 */

let system: TestSystem;
let api: Api;
let wallet: string;

beforeAll(async () => {
  system = await startSystem({ partitions: 2, workerProcesses: 1 });
  api = await newClient(system);
  wallet = await newWallet(api);
});
afterAll(async () => system?.stop());

/**
 * Sends `raw` as is and reads the answer until the server closes the connection. `before`: a
 * request sent first on the same connection, its answer awaited and left out of the result.
 */
async function rawExchange(raw: string, before?: string): Promise<Reply & { closed: boolean; text: string }> {
  const { hostname, port } = new URL(system.baseUrl);
  const socket = connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  const closed = new Promise<boolean>((resolve) => {
    socket.on("close", () => resolve(true));
    setTimeout(() => resolve(false), 5_000).unref();
  });
  socket.on("error", () => {});
  if (before !== undefined) {
    socket.write(before);
    await expect
      .poll(() => Buffer.concat(chunks).toString("utf8"), { timeout: 5_000 })
      .toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\n\r\n\{.*\}$/);
    chunks.length = 0;
  }
  socket.write(raw);
  const didClose = await closed;
  socket.destroy();
  const text = Buffer.concat(chunks).toString("utf8");
  const [head = "", body = ""] = text.split("\r\n\r\n", 2);
  const [statusLine = "", ...headerLines] = head.split("\r\n");
  const headers = new Headers();
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return {
    status: Number(statusLine.split(" ")[1]),
    headers,
    body: body === "" ? undefined : JSON.parse(body),
    closed: didClose,
    text,
  };
}

const transfer = JSON.stringify({ walletId: "WALLET", amount: 100 });

describe("requests Node's HTTP parser refuses", () => {
  it.each([
    ["a request line that is not HTTP", () => "GARBAGE\r\n\r\n"],
    [
      "a Content-Length that is not a number",
      () => `POST /v1/top-ups HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n`,
    ],
    [
      "both Transfer-Encoding and Content-Length",
      () =>
        `POST /v1/top-ups HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${api.key}\r\n` +
        `Idempotency-Key: framing-1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n` +
        `Content-Length: ${transfer.length}\r\n\r\n${transfer.replace("WALLET", wallet)}`,
    ],
    ["headers over 16 KiB", () => `GET /v1/wallets?cursor=${"a".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
  ])("%s: 400 validation_error as problem+json, the connection closed, nothing moved", async (_, raw) => {
    const before = await moneySnapshot(system);
    const r = await rawExchange(raw());
    expectProblem(r, "validation_error");
    expect(r.closed).toBe(true);
    expect(r.headers.get("connection")).toBe("close");
    await expectNothingMoved(system, before);
  });

  it("on a kept-alive connection, after an answered request, too", async () => {
    const r = await rawExchange("GARBAGE\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    expectProblem(r, "validation_error");
    expect(r.closed).toBe(true);
  });

  it("behind a request still being handled (pipelined): the connection is dropped, never a 400 read as its answer", async () => {
    // One write: Node parses the garbage while the wallet read (authentication, then the row) runs.
    const read = `GET /v1/wallets/${wallet} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${api.key}\r\n\r\n`;
    const r = await rawExchange(`${read}GARBAGE\r\n\r\n`);
    expect(r.closed).toBe(true);
    expect(r.text).not.toMatch(/^HTTP\/1\.1 400 /m);
  });
});
