import { describe, expect, it } from "vitest";
import { errorSummary } from "../../shared/log-safe.ts";

/** Drizzle's error as it is thrown: its message is the SQL and its parameters. */
const drizzleError = (query: string, cause?: Error) =>
  Object.assign(new Error(`Failed query: ${query}\nparams: 42,secret`, cause ? { cause } : {}), {
    name: "DrizzleQueryError",
  });

describe("errorSummary", () => {
  it("gives the driver's message under Drizzle's, never the SQL", () => {
    const driver = Object.assign(new Error("Connection terminated unexpectedly"), { code: "57P01" });
    expect(errorSummary(drizzleError("select * from wallets", driver))).toEqual({
      type: "DrizzleQueryError",
      code: "57P01",
      message: "Connection terminated unexpectedly",
    });
  });

  it("through a wrapper of ours around Drizzle's error (a batch's failure): still no SQL", () => {
    const wrapped = new Error("batch attempt failed", { cause: drizzleError("begin") });
    const summary = errorSummary(wrapped);
    expect(summary).toEqual({ type: "Error", message: "query failed" });
    expect(JSON.stringify(summary)).not.toMatch(/begin|params|secret/);
    const driver = new Error("Client has encountered a connection error and is not queryable");
    expect(
      errorSummary(new Error("batch attempt failed", { cause: drizzleError("rollback", driver) })),
    ).toEqual({
      type: "Error",
      message: driver.message,
    });
  });

  it("a Drizzle error with no driver error under it says only that a query failed", () => {
    expect(errorSummary(drizzleError("insert into operations values ($1)"))).toEqual({
      type: "DrizzleQueryError",
      message: "query failed",
    });
  });

  it("ends on a cycle of causes, and describes what is not an Error", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    Object.assign(a, { cause: b });
    expect(errorSummary(a).message).toMatch(/^[ab]$/);
    expect(errorSummary("text")).toEqual({ type: "string", message: "text" });
  });
});
