import { type Logger, pino } from "pino";

/**
 * JSON logs on stdout. Credentials are redacted wherever they might appear; request bodies of
 * money routes are never logged at info level.
 */
export function createLogger(name: string, level: string): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        "authorization",
        "headers.authorization",
        "req.headers.authorization",
        "apiKey",
        "*.apiKey",
        "adminToken",
        "secret",
        "*.secret",
      ],
      censor: "[redacted]",
    },
  });
}
