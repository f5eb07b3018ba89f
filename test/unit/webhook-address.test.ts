import { describe, expect, it } from "vitest";
import {
  type HostResolver,
  isLocalhostName,
  nonPublicReason,
  type ResolvedAddress,
} from "../../shared/webhooks/address-guard.ts";
import { checkWebhookUrl, parseWebhookUrl } from "../../shared/webhooks/webhook-url.ts";

/** A resolver that answers from a table and records what it was asked; no I/O. */
function tableResolver(table: Record<string, string[]>): HostResolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
    asked.push(hostname);
    const found = table[hostname];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(resolve, { asked });
}

describe("nonPublicReason: only public unicast addresses pass", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "linkLocal"],
    ["100.64.0.1", "carrierGradeNat"],
    ["100.127.255.254", "carrierGradeNat"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["192.0.2.1", "reserved"],
    ["198.51.100.7", "reserved"],
    ["203.0.113.9", "reserved"],
    ["198.18.0.1", "reserved"],
    ["240.0.0.1", "reserved"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fe80::1", "linkLocal"],
    ["fc00::1", "uniqueLocal"],
    ["fd12:3456:789a::1", "uniqueLocal"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:10.1.2.3", "private"],
    ["::ffff:169.254.169.254", "linkLocal"],
    ["64:ff9b::7f00:1", "rfc6052"],
    ["64:ff9b::808:808", "rfc6052"],
    ["2002:7f00:1::", "6to4"],
    ["2002:808:808::1", "6to4"],
    ["2001::1", "teredo"],
    ["2001:db8::1", "reserved"],
    ["100::1", "discard"],
    ["fec0::1", "deprecatedSiteLocal"],
    ["::7f00:1", "not a global unicast IPv6 address"],
    ["::127.0.0.1", "address"],
  ])("%s is refused (%s)", (ip, reason) => {
    expect(nonPublicReason(ip)).toContain(reason);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",
  ])("%s is public", (ip) => {
    expect(nonPublicReason(ip)).toBeNull();
  });

  it("a host name is not an address", () => {
    expect(nonPublicReason("example.com")).toBe("not an IP address");
  });
});

describe("parseWebhookUrl: the WHATWG parser's normalisation", () => {
  it.each([
    ["http://2130706433/hook", "127.0.0.1"],
    ["http://0x7f000001/hook", "127.0.0.1"],
    ["http://0x7f.1/hook", "127.0.0.1"],
    ["http://127.1/hook", "127.0.0.1"],
    ["http://0177.0.0.1/hook", "127.0.0.1"],
    ["http://[::ffff:127.0.0.1]/hook", "::ffff:7f00:1"],
    ["http://[0:0:0:0:0:0:0:1]/hook", "::1"],
    ["http://LOCALHOST./hook", "localhost."],
    ["https://Example.COM:443/a?b=1", "example.com"],
  ])("%s has host %s", (raw, hostname) => {
    expect(parseWebhookUrl(raw)).toMatchObject({ hostname });
  });

  it("keeps path and query, drops a default port", () => {
    expect(parseWebhookUrl("HTTPS://Example.COM:443/a/b?c=1#frag")).toEqual({
      href: "https://example.com/a/b?c=1#frag",
      hostname: "example.com",
    });
  });

  it.each([
    ["not a URL", "not an absolute URL"],
    ["/relative/path", "not an absolute URL"],
    ["ftp://example.com/x", "http or https"],
    ["file:///etc/passwd", "http or https"],
    ["javascript:alert(1)", "http or https"],
    ["gopher://example.com/", "http or https"],
    ["https://user:pass@example.com/", "user name or password"],
    ["https://user@example.com/", "user name or password"],
    [`https://example.com/${"a".repeat(2_100)}`, "at most 2048"],
    ["https://93.184.216.34:0/", "port 0"],
    ["http://example.com:00/hook", "port 0"],
  ])("%s is refused", (raw, message) => {
    expect(parseWebhookUrl(raw)).toEqual({ error: expect.stringContaining(message) });
  });
});

describe("checkWebhookUrl", () => {
  const strict = (table: Record<string, string[]> = {}) => ({
    allowPrivateNetworks: false,
    resolve: tableResolver(table),
  });

  it("accepts a name that resolves only to public addresses, and returns the normalised URL", async () => {
    const policy = strict({ "hooks.example.com": ["93.184.215.14", "2606:2800:220:1::1"] });
    expect(await checkWebhookUrl("https://HOOKS.example.com/in", policy)).toEqual({
      ok: true,
      href: "https://hooks.example.com/in",
    });
    expect(policy.resolve.asked).toEqual(["hooks.example.com"]);
  });

  it("refuses a name when any one of its addresses is not public", async () => {
    const policy = strict({ "mixed.example.com": ["93.184.215.14", "10.0.0.5"] });
    expect(await checkWebhookUrl("https://mixed.example.com/", policy)).toEqual({
      ok: false,
      message: "the host resolves to a non-public address (private address)",
    });
  });

  it("refuses a name that does not resolve", async () => {
    expect(await checkWebhookUrl("https://nowhere.example/", strict())).toEqual({
      ok: false,
      message: "the host name does not resolve (ENOTFOUND)",
    });
  });

  it.each(["http://localhost/", "http://LOCALHOST./x", "http://api.localhost:8080/"])(
    "refuses %s without asking DNS",
    async (raw) => {
      const policy = strict({ localhost: ["93.184.215.14"] });
      expect(await checkWebhookUrl(raw, policy)).toEqual({
        ok: false,
        message: "the host names this machine (localhost)",
      });
      expect(policy.resolve.asked).toEqual([]);
    },
  );

  it.each(["http://2130706433/", "http://[::1]/", "http://[::ffff:7f00:1]/", "http://10.1.2.3/"])(
    "refuses the literal %s without asking DNS",
    async (raw) => {
      const policy = strict();
      const r = await checkWebhookUrl(raw, policy);
      expect(r).toEqual({ ok: false, message: expect.stringContaining("non-public address") });
      expect(policy.resolve.asked).toEqual([]);
    },
  );

  it("with private networks allowed, loopback literals and names pass", async () => {
    const policy = { allowPrivateNetworks: true, resolve: tableResolver({ localhost: ["127.0.0.1"] }) };
    expect(await checkWebhookUrl("http://127.0.0.1:8080/h", policy)).toEqual({
      ok: true,
      href: "http://127.0.0.1:8080/h",
    });
    expect((await checkWebhookUrl("http://localhost/h", policy)).ok).toBe(true);
    expect((await checkWebhookUrl("http://[::1]/h", policy)).ok).toBe(true);
  });

  it("isLocalhostName", () => {
    expect(["localhost", "LocalHost.", "a.b.localhost"].map(isLocalhostName)).toEqual([true, true, true]);
    expect(["localhost.example.com", "notlocalhost", "example.com"].map(isLocalhostName)).toEqual([
      false,
      false,
      false,
    ]);
  });
});
