import { describe, expect, it } from "vitest";
import { isConnectionError, isTransientDbError, pgCode } from "../../shared/db/pg-errors.ts";

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

describe("isTransientDbError", () => {
  it.each([
    "40001", // serialization_failure
    "40P01", // deadlock_detected
    "55P03", // lock_not_available (lock_timeout)
    "08006", // connection_failure
    "53000", // insufficient_resources
    "53100", // disk_full
    "53200", // out_of_memory
    "53300", // too_many_connections
    "53400", // configuration_limit_exceeded
    "57014", // query_canceled (statement_timeout)
    "57P01", // admin_shutdown
    "57P03", // cannot_connect_now
    "58030", // io_error
  ])("%s is transient", (code) => {
    expect(isTransientDbError(pgError(code))).toBe(true);
    // Drizzle wraps the driver's error in `cause`.
    expect(isTransientDbError(new Error("Failed query", { cause: pgError(code) }))).toBe(true);
  });

  it.each([
    "22003", // numeric_value_out_of_range: the data's fault
    "23505", // unique_violation
    "23503", // foreign_key_violation
    "23514", // check_violation
    "42601", // syntax_error
    "XX000", // internal_error
  ])("%s is not", (code) => {
    expect(isTransientDbError(pgError(code))).toBe(false);
  });

  it("a refused or reset connection without a SQLSTATE is transient", () => {
    expect(
      isTransientDbError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })),
    ).toBe(true);
    expect(isTransientDbError(new Error("Connection terminated unexpectedly"))).toBe(true);
    expect(isTransientDbError(new Error("something else"))).toBe(false);
  });
});

describe("isConnectionError and pgCode", () => {
  it("a resource error leaves the connection usable; a shutdown does not", () => {
    expect(isConnectionError(pgError("53200"))).toBe(false);
    expect(isConnectionError(pgError("57P01"))).toBe(true);
    expect(pgCode(new Error("x", { cause: new Error("y", { cause: pgError("40P01") }) }))).toBe("40P01");
  });
});
