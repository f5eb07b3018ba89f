import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../shared/ids.ts";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { expectProblem } from "../helpers/problem.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";
import {
  createEndpoint,
  type Receiver,
  startReceiver,
  tableResolver,
  waitForDeliveries,
} from "../helpers/webhooks.ts";

/**
 * The SSRF rule (docs/api.md, "Webhooks"): with WEBHOOK_ALLOW_PRIVATE_NETWORKS off, endpoint URLs
 * must point at public unicast addresses, checked at creation and again on every connection.
 * Names under `.test` resolve through injected resolvers only; the clients that create
 * endpoints on non-public addresses never submit an operation, so nothing is ever sent there.
 */

/** What DNS says to the api. `rebind.example.test` answers differently to the worker (below). */
const API_DNS = {
  "hooks.example.test": ["93.184.215.14"],
  "rebind.example.test": ["93.184.215.14"],
  "private.example.test": ["192.168.0.10"],
  "metadata.example.test": ["169.254.169.254"],
  "mixed.example.test": ["93.184.215.14", "10.0.0.1"],
  "v6loopback.example.test": ["::1"],
  "mapped.example.test": ["::ffff:127.0.0.1"],
  // As any resolver answers them (RFC 6761); with the flag off they are refused before DNS.
  localhost: ["127.0.0.1", "::1"],
  "localhost.": ["127.0.0.1"],
  "api.localhost": ["127.0.0.1"],
};
/** What DNS says to the worker a moment later: the rebinding. */
const WORKER_DNS = { "rebind.example.test": ["127.0.0.1"] };

let strict: TestSystem;
let open: TestSystem;
const receivers: Receiver[] = [];

beforeAll(async () => {
  const workerSettings = {
    WEBHOOK_RETRY_SCHEDULE: "0,0",
    WEBHOOK_POLL_INTERVAL_MS: "100",
    WEBHOOK_TIMEOUT_MS: "2000",
  };
  strict = await startSystem({
    partitions: 2,
    apiResolveHost: tableResolver(API_DNS),
    workerSettings,
    inProcessWorker: { webhooks: { resolveHost: tableResolver(WORKER_DNS) } },
  });
  open = await startSystem({
    partitions: 2,
    apiSettings: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" },
    apiResolveHost: tableResolver(API_DNS),
    workerSettings: { ...workerSettings, WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" },
    inProcessWorker: {},
  });
});
afterAll(async () => {
  await Promise.all([strict?.stop(), open?.stop()]);
  await Promise.all(receivers.map((r) => r.close()));
});

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

const endpointCount = async (system: TestSystem): Promise<number> => {
  const r = await system.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM webhook_endpoints`);
  return r.rows[0]?.n ?? -1;
};

/** Every notation of a non-public host that must be refused. */
const REFUSED: [string, string][] = [
  ["IPv4 loopback", "http://127.0.0.1/hooks"],
  ["IPv4 loopback, another address of 127/8, with a port", "http://127.0.0.2:8080/hooks"],
  ["IPv4 loopback in decimal", "http://2130706433/hooks"],
  ["IPv4 loopback in hex", "http://0x7f000001/hooks"],
  ["IPv4 loopback in dotted hex", "http://0x7f.0x0.0x0.0x1/hooks"],
  ["IPv4 loopback in octal", "http://0177.0.0.1/hooks"],
  ["IPv4 loopback, short form 127.1", "http://127.1/hooks"],
  ["IPv4 loopback, short hex form 0x7f.1", "http://0x7f.1/hooks"],
  ["unspecified 0.0.0.0", "http://0.0.0.0/hooks"],
  ["unspecified as the number 0", "http://0/hooks"],
  ["private 10/8", "http://10.0.0.1/hooks"],
  ["private 172.16/12", "http://172.16.5.4/hooks"],
  ["private 192.168/16", "https://192.168.1.1/hooks"],
  ["link-local (cloud metadata)", "http://169.254.169.254/latest/meta-data/"],
  ["CGNAT 100.64/10", "http://100.64.0.1/hooks"],
  ["IPv4 multicast", "http://224.0.0.1/hooks"],
  ["IPv4 broadcast", "http://255.255.255.255/hooks"],
  ["IPv4 documentation range", "http://192.0.2.10/hooks"],
  ["IPv6 loopback", "http://[::1]/hooks"],
  ["IPv6 loopback, long form", "http://[0:0:0:0:0:0:0:1]/hooks"],
  ["IPv6 unspecified", "http://[::]/hooks"],
  ["IPv4-mapped IPv6 loopback", "http://[::ffff:127.0.0.1]/hooks"],
  ["IPv4-mapped IPv6 loopback, hex form", "http://[::ffff:7f00:1]/hooks"],
  ["IPv4-mapped IPv6 link-local", "http://[::ffff:169.254.169.254]/hooks"],
  ["IPv4-mapped IPv6 private", "http://[::ffff:10.0.0.1]/hooks"],
  ["IPv6 link-local", "http://[fe80::1]/hooks"],
  ["IPv6 unique local fc00::/7", "http://[fc00::1]/hooks"],
  ["IPv6 unique local (AWS metadata)", "http://[fd00:ec2::254]/hooks"],
  ["IPv6 multicast", "http://[ff02::1]/hooks"],
  ["NAT64 64:ff9b::/96 wrapping loopback", "http://[64:ff9b::7f00:1]/hooks"],
  ["6to4 2002::/16 wrapping loopback", "http://[2002:7f00:1::]/hooks"],
  ["Teredo 2001::/32", "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hooks"],
  ["IPv4-compatible IPv6 ::a.b.c.d", "http://[::7f00:1]/hooks"],
  ["the name localhost", "http://localhost/hooks"],
  ["the name localhost in capitals with a port", "http://LOCALHOST:3000/hooks"],
  ["the name localhost with a trailing dot", "http://localhost./hooks"],
  ["a subdomain of localhost", "http://api.localhost/hooks"],
  ["a name that resolves to a private address", "https://private.example.test/hooks"],
  ["a name that resolves to the metadata address", "http://metadata.example.test/hooks"],
  ["a name with one public and one private address", "https://mixed.example.test/hooks"],
  ["a name that resolves to IPv6 loopback", "https://v6loopback.example.test/hooks"],
  ["a name that resolves to an IPv4-mapped loopback", "https://mapped.example.test/hooks"],
];

describe("creation with WEBHOOK_ALLOW_PRIVATE_NETWORKS off: 400 validation_error naming body.url", () => {
  let api: Api;
  beforeAll(async () => {
    api = await newClient(strict, "ssrf");
  });

  it.each(REFUSED)("%s: %s", async (_, url) => {
    const before = await endpointCount(strict);
    const r = await api.post("/v1/webhook-endpoints", { url });
    expectProblem(r, "validation_error", { paths: ["body.url"] });
    expect(r.body.errors[0].message).toMatch(/non-public address|names this machine/);
    expect(await endpointCount(strict)).toBe(before);
  });

  it("a name that does not resolve is refused too", async () => {
    const r = await api.post("/v1/webhook-endpoints", { url: "https://nowhere.example.test/" });
    expectProblem(r, "validation_error", { paths: ["body.url"] });
    expect(r.body.errors[0].message).toContain("does not resolve");
  });

  it.each([
    "https://hooks.example.test/in",
    "https://93.184.215.14/in",
    "https://[2606:4700:4700::1111]/in",
    "http://[::ffff:93.184.215.14]:8443/in",
  ])("a public host is accepted: %s", async (url) => {
    expect((await api.post("/v1/webhook-endpoints", { url })).status).toBe(201);
  });
});

describe("delivery with WEBHOOK_ALLOW_PRIVATE_NETWORKS off: every connection is checked again", () => {
  it("DNS rebinding: a name public at creation that resolves to loopback at delivery is refused and recorded", async () => {
    const rx = await receiver();
    const api = await newClient(strict, "rebinder");
    const endpoint = await createEndpoint(api, `http://rebind.example.test:${rx.port}/hooks`);
    const w = await newWallet(api);
    const op = await api.settle((await api.topUp(w, 100)).body.id);
    expect(op.status).toBe("succeeded");
    expect((await api.get(`/v1/wallets/${w}`)).body.balance).toBe(100);

    const [row] = await waitForDeliveries(strict, endpoint.id, (d) => d[0]?.status === "failed");
    expect(row?.attempts).toBe(3);
    const attempts = await strict.db.execute<{ status_code: number | null; error: string }>(sql`
      SELECT status_code, error FROM webhook_attempts WHERE delivery_id = ${row?.id} ORDER BY attempted_at`);
    expect(attempts.rows).toEqual(
      Array(3).fill({
        status_code: null,
        error: "the host resolves to a non-public address (loopback address)",
      }),
    );
    // The receiver on 127.0.0.1 was never reached.
    expect(rx.received).toEqual([]);
    const list = await api.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`);
    expect(list.body.data).toMatchObject([
      { status: "failed", attempts: 3, lastStatusCode: null, nextAttemptAt: null },
    ]);
  });

  it("an endpoint stored with a loopback literal (created while the flag was on) is refused at delivery", async () => {
    const rx = await receiver();
    const api = await newClient(strict, "flag-was-on");
    const endpointId = newId();
    await strict.db.execute(sql`
      INSERT INTO webhook_endpoints (id, client_id, url, events, secret)
      VALUES (${endpointId}, ${api.clientId}, ${`http://127.0.0.1:${rx.port}/hooks`},
              ARRAY['operation.succeeded', 'operation.failed'], ${`whsec_${Buffer.alloc(32, 1).toString("base64")}`})`);
    const w = await newWallet(api);
    await api.settle((await api.topUp(w, 5)).body.id);
    const [row] = await waitForDeliveries(strict, endpointId, (d) => d[0]?.status === "failed");
    expect(row?.attempts).toBe(3);
    const errors = await strict.db.execute<{ error: string }>(
      sql`SELECT DISTINCT error FROM webhook_attempts WHERE delivery_id = ${row?.id}`,
    );
    expect(errors.rows).toEqual([{ error: "the host is a non-public address (loopback address)" }]);
    expect(rx.received).toEqual([]);
  });
});

describe("redirects are never followed", () => {
  it.each([301, 302, 303, 307, 308])(
    "a %i answer is a failed attempt and its Location is not visited",
    async (status) => {
      const target = await receiver();
      const rx = await receiver();
      rx.react = () => ({ status, headers: { location: target.url } });
      const api = await newClient(open, `redirect-${status}`);
      const endpoint = await createEndpoint(api, rx.url);
      rx.secret = endpoint.secret;
      const w = await newWallet(api);
      await api.settle((await api.topUp(w, 1)).body.id);
      const [row] = await waitForDeliveries(open, endpoint.id, (d) => d[0]?.status === "failed");
      expect(row?.attempts).toBe(3);
      expect(rx.received).toHaveLength(3);
      expect(rx.received.every((r) => r.verified.ok)).toBe(true);
      expect(target.received).toEqual([]);
      const attempts = await open.db.execute<{ status_code: number; error: string }>(
        sql`SELECT DISTINCT status_code, error FROM webhook_attempts WHERE delivery_id = ${row?.id}`,
      );
      expect(attempts.rows).toEqual([
        { status_code: status, error: `redirect (HTTP ${status}) not followed` },
      ]);
      const list = await api.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`);
      expect(list.body.data).toMatchObject([{ status: "failed", attempts: 3, lastStatusCode: status }]);
    },
  );
});

describe("with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true every one of those forms is accepted", () => {
  it.each(REFUSED)("%s: %s", async (_, url) => {
    // This client never submits an operation: nothing is sent to these addresses.
    const api = await newClient(open, "private-ok");
    const r = await api.post("/v1/webhook-endpoints", { url });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  });
});
