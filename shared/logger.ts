import { type DestinationStream, type Logger, pino } from "pino";

/**
 * Most bytes of one write(2) to stdout. Lines go out asynchronously, one write in flight at a
 * time and the next one from its callback: one write per turn of the event loop. At the library's
 * default (16 KiB), an api whose turns ran long under overload (tens of ms, thousands of request
 * lines a second) wrote less per turn than it logged, and the lines waiting grew in its heap
 * without end: 41 → 133 MB over 150 s of `open-twice` (docs/performance.md, "Log lines waiting in
 * the api's heap"). A write of up to 1 MiB takes a turn's lines whatever they weigh.
 */
const STDOUT_MAX_WRITE = 1024 * 1024;

/**
 * Most bytes of lines a process keeps waiting for stdout. A line that would pass it is dropped
 * and counted ({@link droppedLogLines}, exported as `billing_log_lines_dropped_total`): a reader
 * that stops or falls behind (a full pipe, a stuck log shipper) costs log lines, never the
 * process's memory, and never blocks the money path.
 */
export const LOG_BUFFER_MAX_BYTES = 16 * 1024 * 1024;

let dropped = 0;

/** Log lines this process dropped because stdout did not take them in time. */
export const droppedLogLines = (): number => dropped;

/**
 * Stdout as a pino destination: asynchronous (under load one write per burst of lines, at rest
 * each line at once; pino flushes what is pending when the process exits), up to `maxWrite` bytes
 * a write, at most `maxBufferBytes` waiting.
 *
 * Each line is handed over as bytes: given text, the library measures the whole chunk it is
 * gathering at every line (its byte length, up to `maxWrite`), given bytes it adds the line's
 * length. At 1 MiB a write the text form made an overloaded api's logging quadratic in its lines
 * per turn (docs/performance.md).
 */
export function stdoutDestination(
  maxBufferBytes = LOG_BUFFER_MAX_BYTES,
  maxWrite = STDOUT_MAX_WRITE,
): DestinationStream {
  const sonic = pino.destination({
    dest: 1,
    sync: false,
    maxWrite,
    maxLength: maxBufferBytes,
    contentMode: "buffer",
  });
  // pino hands over one line per write, so a dropped write is one dropped line.
  sonic.on("drop", () => {
    dropped++;
  });
  return {
    // Looked up at each call: pino replaces the method with a no-op once stdout is closed (EPIPE).
    // Its type says text; in byte mode it takes bytes.
    write: (line: string) => sonic.write(Buffer.from(line) as unknown as string),
  };
}

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
  return pino(options, destination ?? stdoutDestination());
}

/** Linux's PIPE_BUF: a write to a pipe of at most this many bytes is never interleaved with another's. */
const PIPE_BUF = 4_096;

/**
 * Stdout for one of several processes that share it (the api's `API_PROCESSES` children inherit
 * the primary's): as {@link stdoutDestination}, but each write is whole lines of at most PIPE_BUF
 * bytes, so that the lines of two processes never cut into each other in the pipe (a longer
 * write may be split by the kernel and interleaved). A single line longer than that still goes
 * out in one write. One such write a turn is less than a single api logs under overload, but each
 * child takes its share of the load: `open-twice` with two children at 8,000 requests a second
 * offered kept both flat (docs/performance.md); the bound holds in any case.
 */
export function sharedStdout(): DestinationStream {
  return stdoutDestination(LOG_BUFFER_MAX_BYTES, PIPE_BUF);
}
