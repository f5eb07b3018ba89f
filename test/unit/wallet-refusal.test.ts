import { describe, expect, it } from "vitest";
import { walletRefusalError } from "../../shared/operation-types/placement.ts";

const A = "0190f5a4-0000-7000-8000-000000000001";
const B = "0190f5a4-0000-7000-8000-000000000002";

describe("walletRefusalError", () => {
  it.each([
    ["a transfer's or hold's source", { fromWalletId: A, toWalletId: B }, "source", "fromWalletId"],
    ["a transfer's or hold's destination", { fromWalletId: A, toWalletId: B }, "destination", "toWalletId"],
    ["a top-up's wallet", { fromWalletId: null, toWalletId: B }, "source", "walletId"],
    ["a payout's wallet", { fromWalletId: A, toWalletId: null }, "source", "walletId"],
  ] as const)("names the request's field of %s in a 404 wallet_not_found", (_, row, refusal, field) => {
    const err = walletRefusalError(row, refusal);
    expect(err.code).toBe("wallet_not_found");
    expect(err.message).toBe(`No wallet with this id (${field}) is available to this client.`);
  });

  it("answers differing currencies with 422 currency_mismatch, naming no wallet", () => {
    const err = walletRefusalError({ fromWalletId: A, toWalletId: B }, "currency");
    expect(err.code).toBe("currency_mismatch");
    expect(err.message).not.toContain(B);
  });
});
