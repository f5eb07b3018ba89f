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
 * SQLSTATEs worth retrying the same work for, by class or code, with the reason. None of them
 * says anything about the operations of the work: retried, a resource outage makes operations
 * wait instead of failing good ones one by one as `internal_error`.
 */
const TRANSIENT: { prefix: string; why: string }[] = [
  { prefix: "40001", why: "serialization failure: the same work may succeed on a new snapshot" },
  { prefix: "40P01", why: "deadlock: the victim's work succeeds once the other transaction ends" },
  { prefix: "55P03", why: "lock_timeout: another transaction held the lock; it will end" },
  { prefix: "08", why: "connection exception: the connection failed, not the statement" },
  {
    prefix: "53",
    why: "insufficient resources (connections, memory, disk): the server's state, not the data",
  },
  { prefix: "57014", why: "statement timeout or cancel: the server was slow or asked to stop the statement" },
  { prefix: "57P", why: "server shutting down, crashed or not accepting connections yet" },
  { prefix: "58", why: "system or I/O error of the server: its machine's fault, not the data's" },
];

/** Errors worth retrying the same work for ({@link TRANSIENT}), and a lost or refused connection. */
export function isTransientDbError(err: unknown): boolean {
  const code = pgCode(err);
  if (code) return TRANSIENT.some((t) => code.startsWith(t.prefix));
  for (let e: unknown = err, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === "string" && CONNECTION_ERRORS.has(c)) return true;
    const m = (e as { message?: unknown }).message;
    if (
      typeof m === "string" &&
      /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i.test(
        m,
      )
    ) {
      return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
