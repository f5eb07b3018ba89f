/**
 * A log-safe description of an error: its class, code and message. Drizzle's own message holds
 * the SQL and its parameters, so the innermost cause's message is used (the driver's), through
 * any wrappers of ours (a batch's failure wraps Drizzle's error, which wraps the driver's); a
 * Drizzle error with no driver error under it says only "query failed".
 */
export function errorSummary(err: unknown): { type: string; code?: string; message: string } {
  if (!(err instanceof Error)) return { type: typeof err, message: String(err) };
  let inner: Error = err;
  let code: unknown = (err as { code?: unknown }).code;
  // Bounded: a cause chain is a few errors deep; a cycle must not hang the logger.
  for (let depth = 0; depth < 8 && inner.cause instanceof Error; depth++) {
    inner = inner.cause;
    code ??= (inner as { code?: unknown }).code;
  }
  const message = inner.message.startsWith("Failed query") ? "query failed" : inner.message;
  return { type: err.name, ...(typeof code === "string" ? { code } : {}), message: message.slice(0, 200) };
}
