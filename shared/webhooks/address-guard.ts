import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";

/**
 * The SSRF rule for webhook endpoints (docs/api.md, "Webhooks"): unless the operator allows private
 * networks, a URL's host must be, or resolve only to, public unicast addresses. An allowlist:
 * ipaddr.js names every special-purpose range (loopback, private, link-local, CGNAT, unique
 * local, multicast, unspecified, NAT64, 6to4, Teredo, documentation, reserved …) and only what
 * it calls `unicast` passes; IPv6 must moreover be global unicast (2000::/3), which also shuts
 * out the deprecated IPv4-compatible form `::a.b.c.d`. The api applies it when an endpoint is
 * created and the sender again to every address it connects to (DNS rebinding).
 */

/** A resolved address as `dns.lookup(…, { all: true })` returns it. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses. Injectable so that tests can simulate rebinding. */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** Longest wait for the system resolver, ms: a creation request does not hang on a slow DNS server. */
const RESOLVE_TIMEOUT_MS = 5_000;

/** The system resolver (`getaddrinfo`, /etc/hosts included), every address, in its order. */
export const systemResolver: HostResolver = async (hostname) => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error("DNS lookup timed out"), { code: "ETIMEOUT" })),
      RESOLVE_TIMEOUT_MS,
    );
  });
  try {
    const found = await Promise.race([lookup(hostname, { all: true, verbatim: true }), timeout]);
    return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
  } finally {
    clearTimeout(timer);
  }
};

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR("2000::/3");

/**
 * Why `ip` may not be connected to, or null if it is a public unicast address. An IPv4-mapped
 * IPv6 address (`::ffff:a.b.c.d`) is judged as the IPv4 address it carries. Pure.
 */
export function nonPublicReason(ip: string): string | null {
  if (!ipaddr.isValid(ip)) return "not an IP address";
  let addr = ipaddr.parse(ip);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  }
  const range = addr.range();
  if (range !== "unicast") return `${range} address`;
  if (addr.kind() === "ipv6" && !addr.match(GLOBAL_UNICAST_V6)) return "not a global unicast IPv6 address";
  return null;
}

/** Host names that mean this machine whatever DNS says (RFC 6761), refused before any lookup. */
export function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, "");
  return name === "localhost" || name.endsWith(".localhost");
}

/** A URL host that may not be connected to; its message is safe to show to the client and to log. */
export class ForbiddenHostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ForbiddenHostError";
  }
}

export interface AddressPolicy {
  /** WEBHOOK_ALLOW_PRIVATE_NETWORKS: skip the address rule (development and tests only). */
  allowPrivateNetworks: boolean;
  resolve: HostResolver;
}

/**
 * The addresses a connection to `hostname` may use: an IP literal as it is, a name resolved by
 * the policy's resolver. Throws {@link ForbiddenHostError} when the rule refuses the name or
 * any one of its addresses (all of them must be public, so that no retry lands elsewhere), or
 * when it resolves to nothing. `hostname` is the URL parser's: IPv6 without brackets.
 */
export async function checkedAddresses(hostname: string, policy: AddressPolicy): Promise<ResolvedAddress[]> {
  if (ipaddr.isValid(hostname)) {
    const literal = { address: hostname, family: ipaddr.parse(hostname).kind() === "ipv6" ? 6 : 4 } as const;
    if (!policy.allowPrivateNetworks) {
      const reason = nonPublicReason(hostname);
      if (reason) throw new ForbiddenHostError(`the host is a non-public address (${reason})`);
    }
    return [literal];
  }
  if (!policy.allowPrivateNetworks && isLocalhostName(hostname)) {
    throw new ForbiddenHostError("the host names this machine (localhost)");
  }
  let addresses: ResolvedAddress[];
  try {
    addresses = await policy.resolve(hostname);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new ForbiddenHostError(
      `the host name does not resolve${typeof code === "string" ? ` (${code})` : ""}`,
    );
  }
  if (addresses.length === 0) throw new ForbiddenHostError("the host name does not resolve");
  if (!policy.allowPrivateNetworks) {
    for (const a of addresses) {
      const reason = nonPublicReason(a.address);
      if (reason) throw new ForbiddenHostError(`the host resolves to a non-public address (${reason})`);
    }
  }
  return addresses;
}
