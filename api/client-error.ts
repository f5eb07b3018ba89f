import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import { ApiError, problemBody } from "../shared/errors.ts";

/** Node's own record of the response in progress on a connection (what its default handler reads). */
type HttpSocket = Socket & { _httpMessage?: unknown };

/**
 * The `clientError` listener of the api's HTTP server: a request Node's parser refuses before
 * Express sees it (a request line or header that is not HTTP/1.1, an unreadable or doubled
 * `Content-Length`, headers over Node's 16 KiB) is answered as every other bad request is, a 400
 * `validation_error` problem with an `X-Request-Id` (a new one: the headers were not read), also
 * on a kept-alive connection after earlier answers; then the connection is closed. Without it
 * Node answers a bare 400 or 431 with no body.
 *
 * Closed without an answer: a connection already reset; one with a response in progress (a
 * pipelined request behind one still being handled, whose answer a 400 would be read as: the
 * client sees a dropped connection and retries under its Idempotency-Key); and a request that
 * timed out (Node would send a bare 408, which the contract has no code for). So is a request
 * whose own body breaks the framing while it is handled (a bad chunk size): its response is the
 * one in progress.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: HttpSocket): void {
  // The parser reports its error again for every later chunk: the answer being written closes.
  if (socket.writableEnded && !socket.destroyed) return;
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT" || !socket.writable || socket._httpMessage) {
    socket.destroy();
    return;
  }
  const detail =
    err.code === "HPE_HEADER_OVERFLOW"
      ? "The request's headers are larger than 16 KiB."
      : "The request is not well-formed HTTP/1.1.";
  const requestId = randomUUID();
  const body = JSON.stringify(problemBody(new ApiError("validation_error", detail), requestId));
  const answer = [
    "HTTP/1.1 400 Bad Request",
    "Content-Type: application/problem+json",
    `Content-Length: ${Buffer.byteLength(body)}`,
    `X-Request-Id: ${requestId}`,
    "Connection: close",
    "",
    body,
  ].join("\r\n");
  // Destroyed once written: the server allows half-open connections, and a client that never
  // closes its side would otherwise keep the socket (and a draining server) open.
  socket.end(answer, () => socket.destroy());
}
