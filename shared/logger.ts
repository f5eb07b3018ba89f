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
  // Asynchronous writes to stdout: lines logged while a write is in flight go out together in the
  // next one, so under load there is one write(2) per burst rather than one per line (a request
  // line each at thousands of requests a second), and at rest each line goes out at once. pino
  // flushes what is pending synchronously when the process exits.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: false }));
}

/** Linux's PIPE_BUF: a write to a pipe of at most this many bytes is never interleaved with another's. */
const PIPE_BUF = 4_096;

/**
 * Stdout for one of several processes that share it (the api's `API_PROCESSES` children inherit
 * the primary's): asynchronous as {@link createLogger}'s, but each write is whole lines of at
 * most PIPE_BUF bytes, so that the lines of two processes never cut into each other in the pipe
 * (the default, 16 KiB writes, may be split by the kernel and interleaved). A single line longer
 * than that still goes out in one write.
 */
export function sharedStdout(): DestinationStream {
  return pino.destination({ dest: 1, sync: false, maxWrite: PIPE_BUF });
}
