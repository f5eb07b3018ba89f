import { describe, expect, it } from "vitest";
import { canonicalJson, requestHash } from "../../shared/canonical.ts";

describe("canonicalJson", () => {
  it("sorts object keys at every depth, including objects inside arrays", () => {
    const a = { z: 1, a: { y: [{ b: 2, a: 1 }, 3], x: { d: null, c: "s" } }, m: "m" };
    const b = { m: "m", a: { x: { c: "s", d: null }, y: [{ a: 1, b: 2 }, 3] }, z: 1 };
    expect(canonicalJson(a)).toBe('{"a":{"x":{"c":"s","d":null},"y":[{"a":1,"b":2},3]},"m":"m","z":1}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });

  it("keeps array order", () => {
    expect(canonicalJson([2, 1])).toBe("[2,1]");
  });
});

describe("requestHash", () => {
  const transfer = {
    type: "transfer",
    fromWalletId: "0190f5a4-0000-7000-8000-000000000001",
    toWalletId: "0190f5a4-0000-7000-8000-000000000002",
    amount: 1500,
    metadata: { order: "42", note: "rent" },
  };

  it("is a hex SHA-256 independent of key order at every depth", () => {
    const reordered = {
      metadata: { note: "rent", order: "42" },
      amount: 1500,
      toWalletId: transfer.toWalletId,
      fromWalletId: transfer.fromWalletId,
      type: "transfer",
    };
    expect(requestHash(transfer)).toMatch(/^[0-9a-f]{64}$/);
    expect(requestHash(reordered)).toBe(requestHash(transfer));
  });

  it("differs when any value differs, at any depth", () => {
    const variants: unknown[] = [
      { ...transfer, amount: 1501 },
      { ...transfer, type: "top_up" },
      { ...transfer, toWalletId: transfer.fromWalletId, fromWalletId: transfer.toWalletId },
      { ...transfer, metadata: { order: "43", note: "rent" } },
      { ...transfer, metadata: { order: "42" } },
      { ...transfer, metadata: { order: "42", note: "rent", extra: "" } },
      { ...transfer, amount: "1500" },
      [transfer],
    ];
    const hashes = new Set([requestHash(transfer), ...variants.map(requestHash)]);
    expect(hashes.size).toBe(variants.length + 1);
  });

  it("differs when array order differs", () => {
    expect(requestHash({ a: [1, 2] })).not.toBe(requestHash({ a: [2, 1] }));
  });
});
