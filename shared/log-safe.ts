/**
 * A log-safe description of an error: its class, code and message. Drizzle's own message holds
 * the SQL and its parameters, so the driver's message (its `cause`) is used instead.
 */
export function errorSummary(err: unknown): { type: string; code?: string; message: string } {
  if (!(err instanceof Error)) return { type: typeof err, message: String(err) };
  const cause = err.cause instanceof Error ? err.cause : undefined;
  const code = (err as { code?: unknown }).code ?? (cause as { code?: unknown } | undefined)?.code;
  const message = cause
    ? cause.message
    : err.message.startsWith("Failed query")
      ? "query failed"
      : err.message;
  return { type: err.name, ...(typeof code === "string" ? { code } : {}), message: message.slice(0, 200) };
}
