import { describe, expect, it } from "vitest";
import { backoffMs, retriesConnectionError, retriesStatus, retryAfterMs } from "../../sdk/src/retry.ts";

/** The client's retry rules (sdk/src/retry.ts), pure functions; the behaviour is tested against a real system. */

describe("backoffMs", () => {
  it("doubles from 250 ms up to 8 s, half of it random", () => {
    expect([0, 1, 2, 5, 10].map((n) => backoffMs(n, () => 0))).toEqual([125, 250, 500, 4_000, 4_000]);
    expect([0, 1, 2, 5, 10].map((n) => backoffMs(n, () => 1))).toEqual([250, 500, 1_000, 8_000, 8_000]);
  });
});

describe("retryAfterMs", () => {
  it("reads seconds and HTTP dates; nothing else", () => {
    expect(retryAfterMs("2")).toBe(2_000);
    expect(retryAfterMs(" 0 ")).toBe(0);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs("Thu, 01 Jan 2026 00:00:03 GMT", now)).toBe(3_000);
    expect(retryAfterMs("Wed, 31 Dec 2025 23:59:00 GMT", now)).toBe(0);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs("soon")).toBeUndefined();
    expect(retryAfterMs("-1")).toBeUndefined();
  });
});

describe("what is retried", () => {
  it("429 always (refused before any work); 503 only when repeating is safe; nothing else", () => {
    expect(retriesStatus(429, "once")).toBe(true);
    expect(retriesStatus(429, "safe")).toBe(true);
    expect(retriesStatus(503, "safe")).toBe(true);
    expect(retriesStatus(503, "once")).toBe(false);
    for (const status of [400, 401, 404, 409, 422, 500, 502])
      expect(retriesStatus(status, "safe")).toBe(false);
  });

  it("a connection error when safe to repeat, or when the connection was refused (nothing sent)", () => {
    const refused = new TypeError("fetch failed", {
      cause: Object.assign(new Error("x"), { code: "ECONNREFUSED" }),
    });
    const both = new TypeError("fetch failed", {
      cause: new AggregateError([Object.assign(new Error("x"), { code: "ECONNREFUSED" })]),
    });
    const reset = new TypeError("fetch failed", {
      cause: Object.assign(new Error("x"), { code: "ECONNRESET" }),
    });
    expect(retriesConnectionError(reset, "safe")).toBe(true);
    expect(retriesConnectionError(reset, "once")).toBe(false);
    expect(retriesConnectionError(refused, "once")).toBe(true);
    expect(retriesConnectionError(both, "once")).toBe(true);
    expect(retriesConnectionError(new DOMException("timeout", "TimeoutError"), "once")).toBe(false);
  });
});
