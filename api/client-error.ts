import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import { ApiError, problemBody } from "../shared/errors.ts";

/**
 * The `clientError` listener of the api's HTTP server: a request Node's parser refuses before
 * Express sees it (a request line or header that is not HTTP/1.1, an unreadable or doubled
 * `Content-Length`, headers over Node's 16 KiB) is answered as every other bad request is, a 400
 * `validation_error` problem with an `X-Request-Id` (a new one: the headers were not read), and
 * the connection is closed. Without it Node answers a bare 400 or 431 with no body. A request that
 * timed out, or a connection already reset or written to, is closed without an answer, as Node
 * closes it.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT" || !socket.writable || socket.bytesWritten > 0) {
    socket.destroy();
    return;
  }
  const detail =
    err.code === "HPE_HEADER_OVERFLOW"
      ? "The request's headers are larger than 16 KiB."
      : "The request is not well-formed HTTP/1.1.";
  const requestId = randomUUID();
  const body = JSON.stringify(problemBody(new ApiError("validation_error", detail), requestId));
  socket.end(
    [
      "HTTP/1.1 400 Bad Request",
      "Content-Type: application/problem+json",
      `Content-Length: ${Buffer.byteLength(body)}`,
      `X-Request-Id: ${requestId}`,
      "Connection: close",
      "",
      body,
    ].join("\r\n"),
  );
}
