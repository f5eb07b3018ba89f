import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import {
  type AddressPolicy,
  checkedAddresses,
  ForbiddenHostError,
  nonPublicReason,
  type ResolvedAddress,
} from "../shared/webhooks/address-guard.ts";
import { parseWebhookUrl } from "../shared/webhooks/webhook-url.ts";

/** How one attempt ended, for the attempt record and the metrics hooks. */
export type AttemptOutcome =
  /** A 2xx answer. */
  | "succeeded"
  /** Any other status, 3xx included (redirects are never followed). */
  | "http_error"
  /** No status within WEBHOOK_TIMEOUT_MS. */
  | "timeout"
  /** Refused, reset, unreachable, TLS failure … */
  | "connection_error"
  /** The SSRF rule refused the host or an address it resolved to; nothing was sent. */
  | "refused";

export interface AttemptResult {
  outcome: AttemptOutcome;
  /** The status the endpoint answered, if it answered. */
  statusCode: number | null;
  /** Short, log-safe description of a failure (never the URL, the body or a secret); null on a 2xx. */
  error: string | null;
}

/** Most characters of an error description kept in an attempt record. */
const MAX_ERROR_LENGTH = 200;

/**
 * POSTs one signed webhook, following no redirect, within `timeoutMs` from the start of name
 * resolution to the response status. The SSRF rule is enforced on the connection itself: the
 * host is resolved once, every address is checked, and the socket's `lookup` hands the
 * connection exactly those checked addresses, so a name that resolves differently a moment
 * later (DNS rebinding) cannot steer it elsewhere. The connected peer's address is checked once
 * more on connect, as a second line. Never throws; `signal` aborts (shutdown).
 */
export async function postWebhook(
  target: string,
  body: string,
  headers: Record<string, string>,
  opts: { timeoutMs: number; policy: AddressPolicy; signal?: AbortSignal },
): Promise<AttemptResult> {
  const parsed = parseWebhookUrl(target);
  if ("error" in parsed) return { outcome: "refused", statusCode: null, error: `url ${parsed.error}` };
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  const timedOut = (): AttemptResult => ({
    outcome: "timeout",
    statusCode: null,
    error: `no answer within ${opts.timeoutMs} ms`,
  });

  let addresses: ResolvedAddress[];
  try {
    addresses = await raceAbort(checkedAddresses(parsed.hostname, opts.policy), signal);
  } catch (err) {
    if (err instanceof ForbiddenHostError)
      return { outcome: "refused", statusCode: null, error: err.message };
    if (timeout.aborted) return timedOut();
    return { outcome: "connection_error", statusCode: null, error: describe(err) };
  }

  const lookup: LookupFunction = (_hostname, options, callback) => {
    const usable = options.family ? addresses.filter((a) => a.family === options.family) : addresses;
    const first = usable[0];
    if (!first) {
      callback(Object.assign(new Error("no checked address of the family asked"), { code: "ENOTFOUND" }), "");
      return;
    }
    if (options.all) callback(null, usable);
    else callback(null, first.address, first.family);
  };
  const transport = parsed.href.startsWith("https:") ? https : http;

  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    const finish = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const req = transport.request(parsed.href, {
      method: "POST",
      headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
      // A fresh connection per attempt: no pooled socket can carry an attempt past the checks.
      agent: false,
      lookup,
      signal,
    });
    req.on("socket", (socket) => {
      socket.once("connect", () => {
        const peer = socket.remoteAddress;
        const reason = opts.policy.allowPrivateNetworks || !peer ? null : nonPublicReason(peer);
        if (reason) {
          finish({
            outcome: "refused",
            statusCode: null,
            error: `connected to a non-public address (${reason})`,
          });
          req.destroy();
        }
      });
    });
    req.on("response", (res) => {
      const status = res.statusCode ?? 0;
      // The answer's body is not needed; the connection is not reused.
      res.destroy();
      if (status >= 200 && status < 300) finish({ outcome: "succeeded", statusCode: status, error: null });
      else if (status >= 300 && status < 400)
        finish({
          outcome: "http_error",
          statusCode: status,
          error: `redirect (HTTP ${status}) not followed`,
        });
      else finish({ outcome: "http_error", statusCode: status, error: `HTTP ${status}` });
    });
    req.on("error", (err) => {
      if (timeout.aborted) finish(timedOut());
      else if (opts.signal?.aborted)
        finish({ outcome: "connection_error", statusCode: null, error: "aborted" });
      else finish({ outcome: "connection_error", statusCode: null, error: describe(err) });
    });
    req.end(body);
  });
}

/** Rejects with the signal's reason as soon as it aborts. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** A network error's code and message, clipped. Node's messages name the address, never the URL. */
function describe(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  const text = typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
  return text.slice(0, MAX_ERROR_LENGTH);
}
