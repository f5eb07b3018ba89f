import { type AddressPolicy, checkedAddresses, ForbiddenHostError } from "./address-guard.ts";

/** Longest endpoint URL accepted, in characters (after normalisation). */
export const MAX_WEBHOOK_URL_LENGTH = 2_048;

/** A parsed endpoint URL: the normalised `href` to store and the host to connect to. */
export interface WebhookUrl {
  href: string;
  /** The WHATWG parser's hostname: IPv4 in dotted decimal whatever the notation sent, IPv6 without brackets. */
  hostname: string;
}

/**
 * Parses an endpoint URL with the WHATWG URL parser, which normalises every IPv4 notation
 * (`2130706433`, `0x7f.1`, `127.1`, `0177.0.0.1`) to dotted decimal and IPv6 to its compressed
 * form, so that the address rule sees one spelling. Only http and https; no user name or
 * password (they would be sent along and stored in clear), no port 0. Returns a message on
 * refusal. Pure.
 */
export function parseWebhookUrl(raw: string): WebhookUrl | { error: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { error: "not an absolute URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { error: "must be an http or https URL" };
  if (url.username !== "" || url.password !== "")
    return { error: "must not contain a user name or password" };
  if (url.hostname === "") return { error: "must have a host" };
  // The parser normalises `:00` to `0`; no server listens there, so every delivery would fail.
  if (url.port === "0") return { error: "must not use port 0" };
  if (url.href.length > MAX_WEBHOOK_URL_LENGTH) {
    return { error: `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters` };
  }
  return { href: url.href, hostname: url.hostname.replace(/^\[(.*)\]$/, "$1") };
}

/**
 * The creation-time check: a parseable http(s) URL whose host passes the address rule
 * (`checkedAddresses`). Returns the normalised URL to store, or a message safe to show.
 */
export async function checkWebhookUrl(
  raw: string,
  policy: AddressPolicy,
): Promise<{ ok: true; href: string } | { ok: false; message: string }> {
  const parsed = parseWebhookUrl(raw);
  if ("error" in parsed) return { ok: false, message: parsed.error };
  try {
    await checkedAddresses(parsed.hostname, policy);
  } catch (err) {
    if (err instanceof ForbiddenHostError) return { ok: false, message: err.message };
    throw err;
  }
  return { ok: true, href: parsed.href };
}
