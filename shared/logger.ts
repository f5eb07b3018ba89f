import { type DestinationStream, type Logger, pino } from "pino";

/**
 * JSON logs on stdout (or `destination`, for tests). Credentials are redacted wherever they
 * might appear; request bodies of money routes are never logged at all (the request line has
 * ids, route template, status and duration only).
 */
export function createLogger(name: string, level: string, destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    redact: {
      paths: [
        "authorization",
        "*.authorization",
        "headers.authorization",
        "req.headers.authorization",
        "headers.cookie",
        "req.headers.cookie",
        "apiKey",
        "*.apiKey",
        "adminToken",
        "ADMIN_TOKEN",
        "secret",
        "*.secret",
        "password",
        "*.password",
      ],
      censor: "[redacted]",
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
