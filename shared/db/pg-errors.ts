/** The SQLSTATE of a Postgres error, looking through wrappers (Drizzle puts the driver's error in `cause`). */
export function pgCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

const CONNECTION_ERRORS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** The connection itself failed (refused, reset, server shutting down): it must not be reused. */
export function isConnectionError(err: unknown): boolean {
  const code = pgCode(err);
  if (code) return code.startsWith("08") || code.startsWith("57P");
  return isTransientDbError(err);
}

/**
 * Errors worth retrying the same work for: serialization failure, deadlock, lock timeout,
 * a lost or refused connection, a server shutting down.
 */
export function isTransientDbError(err: unknown): boolean {
  const code = pgCode(err);
  if (code)
    return (
      code === "40001" ||
      code === "40P01" ||
      code === "55P03" ||
      code.startsWith("08") ||
      code.startsWith("57P")
    );
  for (let e: unknown = err, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === "string" && CONNECTION_ERRORS.has(c)) return true;
    const m = (e as { message?: unknown }).message;
    if (
      typeof m === "string" &&
      /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
        m,
      )
    ) {
      return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
