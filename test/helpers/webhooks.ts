import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { expect } from "vitest";
import type { HostResolver, ResolvedAddress } from "../../shared/webhooks/address-guard.ts";
import type { Api } from "./http.ts";
import type { TestSystem } from "./system.ts";

/** One POST a receiver got, with the outcome of `Webhook.verify` against the endpoint's secret. */
export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** What `Webhook.verify` returned (the parsed body), or the error it threw. */
  verified: { ok: true; payload: unknown } | { ok: false; error: string };
  at: number;
}

/** What the receiver does with a request: answer with a status, or never answer. */
export type Reaction = number | "hang" | { status: number; headers: Record<string, string> };

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** The endpoint's secret, set once the endpoint exists; every request is verified with it. */
  secret: string | undefined;
  /** Decides each answer; called with the request's index (0-based) among all received. */
  react: (index: number, received: Received) => Reaction;
  /** Requests that are being held open ("hang"). */
  hanging(): number;
  close(): Promise<void>;
}

/**
 * A webhook receiver on 127.0.0.1 (a system that sends to it needs
 * WEBHOOK_ALLOW_PRIVATE_NETWORKS=true). It verifies every request with the reference
 * implementation, `standardwebhooks`' `Webhook.verify`, as a client's receiver would.
 */
export async function startReceiver(path = "/hooks"): Promise<Receiver> {
  const held = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const receiver: Receiver = {
    url: "",
    port: 0,
    received: [],
    secret: undefined,
    react: () => 200,
    hanging: () => held.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let verified: Received["verified"];
      try {
        if (!receiver.secret) throw new Error("no secret set");
        const headers = Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : (v ?? "")]),
        );
        verified = { ok: true, payload: new Webhook(receiver.secret).verify(body, headers) };
      } catch (err) {
        verified = { ok: false, error: String(err) };
      }
      const received: Received = { headers: req.headers, body, verified, at: Date.now() };
      const index = receiver.received.push(received) - 1;
      const reaction = receiver.react(index, received);
      if (reaction === "hang") {
        held.add(res);
        res.on("close", () => held.delete(res));
        return;
      }
      const { status, headers } = typeof reaction === "number" ? { status: reaction, headers: {} } : reaction;
      res.writeHead(status, { "content-type": "text/plain", ...headers }).end("ok");
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}${path}`;
  return receiver;
}

/** The verified body of a received request; throws if `Webhook.verify` refused it. */
export function payloadOf(r: Received | undefined): {
  type: string;
  timestamp: string;
  data: { id: string } & Record<string, unknown>;
} {
  if (!r) throw new Error("no such request");
  if (!r.verified.ok) throw new Error(`not verified: ${r.verified.error}`);
  return r.verified.payload as ReturnType<typeof payloadOf>;
}

/** A resolver answering from a table (what DNS would say); unknown names fail like ENOTFOUND. */
export function tableResolver(table: Record<string, string[]>): HostResolver {
  return async (hostname) => {
    const found = table[hostname];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return found.map((address): ResolvedAddress => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
}

/** Creates an endpoint through the API and returns its creation answer (with the secret). */
export async function createEndpoint(
  api: Api,
  url: string,
  events?: string[],
): Promise<{ id: string; url: string; events: string[]; secret: string; createdAt: string }> {
  const r = await api.post("/v1/webhook-endpoints", { url, ...(events ? { events } : {}) });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

/** A delivery row as stored, with its attempt count. */
export type StoredDelivery = {
  id: string;
  endpoint_id: string;
  operation_id: string;
  event_type: string;
  status: string;
  attempts: number;
};

/** The deliveries of an endpoint, straight from Postgres, oldest first. */
export async function storedDeliveries(system: TestSystem, endpointId: string): Promise<StoredDelivery[]> {
  const r = await system.db.execute<StoredDelivery>(sql`
    SELECT d.id::text, d.endpoint_id::text, d.operation_id::text, d.event_type, d.status,
           (SELECT count(*)::int FROM webhook_attempts a WHERE a.delivery_id = d.id) AS attempts
    FROM webhook_deliveries d WHERE d.endpoint_id = ${endpointId} ORDER BY d.id`);
  return r.rows;
}

/** Polls Postgres until `check` passes on the endpoint's deliveries; returns them. */
export async function waitForDeliveries(
  system: TestSystem,
  endpointId: string,
  check: (rows: StoredDelivery[]) => boolean,
  timeoutMs = 30_000,
): Promise<StoredDelivery[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await storedDeliveries(system, endpointId);
    if (check(rows)) return rows;
    if (Date.now() > deadline) {
      const summary = new Map<string, number>();
      for (const d of rows) {
        const k = `${d.status}/${d.attempts} attempts`;
        summary.set(k, (summary.get(k) ?? 0) + 1);
      }
      throw new Error(`deliveries not as expected: ${JSON.stringify(Object.fromEntries(summary))}`);
    }
    await sleep(100);
  }
}

/** Polls until `check` is true (for receiver state). */
export async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
