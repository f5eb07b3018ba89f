import { randomUUID } from "node:crypto";
import { request } from "node:http";
import { sql } from "drizzle-orm";
import { expect } from "vitest";
import { ADMIN_TOKEN, type TestSystem } from "./system.ts";

export interface Reply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field in tests
  body: any;
}

/** A small HTTP client bound to one system and one bearer key. */
export class Api {
  readonly system: TestSystem;
  readonly key: string | undefined;

  constructor(system: TestSystem, key?: string) {
    this.system = system;
    this.key = key;
  }

  async request(
    method: string,
    path: string,
    opts: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...(this.key ? { authorization: `Bearer ${this.key}` } : {}) };
    let body: string | undefined;
    if (opts.rawBody !== undefined) body = opts.rawBody;
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers["content-type"] = "application/json";
    }
    const res = await fetch(`${this.system.baseUrl}${path}`, {
      method,
      headers: { ...headers, ...opts.headers },
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  }

  get(path: string, headers?: Record<string, string>): Promise<Reply> {
    return this.request("GET", path, headers ? { headers } : {});
  }

  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Reply> {
    return this.request("POST", path, { body, ...(headers ? { headers } : {}) });
  }

  topUp(walletId: string, amount: number, key: string = randomUUID()): Promise<Reply> {
    return this.post("/v1/top-ups", { walletId, amount }, { "idempotency-key": key });
  }

  transfer(
    fromWalletId: string,
    toWalletId: string,
    amount: number,
    key: string = randomUUID(),
  ): Promise<Reply> {
    return this.post("/v1/transfers", { fromWalletId, toWalletId, amount }, { "idempotency-key": key });
  }

  payout(walletId: string, amount: number, key: string = randomUUID()): Promise<Reply> {
    return this.post("/v1/payouts", { walletId, amount }, { "idempotency-key": key });
  }

  hold(
    fromWalletId: string,
    toWalletId: string,
    amount: number,
    extra: { expiresInSeconds?: number; metadata?: Record<string, string> } = {},
    key: string = randomUUID(),
  ): Promise<Reply> {
    return this.post("/v1/holds", { fromWalletId, toWalletId, amount, ...extra }, { "idempotency-key": key });
  }

  capture(holdId: string, amount?: number, key: string = randomUUID()): Promise<Reply> {
    return this.post(`/v1/holds/${holdId}/capture`, amount === undefined ? {} : { amount }, {
      "idempotency-key": key,
    });
  }

  void(holdId: string, key: string = randomUUID()): Promise<Reply> {
    return this.post(`/v1/holds/${holdId}/void`, {}, { "idempotency-key": key });
  }

  refund(
    operationId: string,
    amount?: number,
    extra: { metadata?: Record<string, string> } = {},
    key: string = randomUUID(),
  ): Promise<Reply> {
    const body = { operationId, ...(amount === undefined ? {} : { amount }), ...extra };
    return this.post("/v1/refunds", body, { "idempotency-key": key });
  }

  /** Waits (long poll) until the operation is final and returns it. */
  async settle(operationId: string): Promise<Reply["body"]> {
    for (let i = 0; i < 30; i++) {
      const r = await this.get(`/v1/operations/${operationId}?wait=5`);
      expect(r.status).toBe(200);
      if (r.body.status !== "pending") return r.body;
    }
    throw new Error(`operation ${operationId} still pending`);
  }
}

/** Creates a client through the operator's route and returns an Api bound to its key. */
export async function newClient(system: TestSystem, name = "acme"): Promise<Api & { clientId: string }> {
  const r = await new Api(system, ADMIN_TOKEN).post("/v1/clients", { name });
  expect(r.status).toBe(201);
  return Object.assign(new Api(system, r.body.apiKey), { clientId: r.body.id as string });
}

export async function newWallet(api: Api, body: Record<string, unknown> = {}): Promise<string> {
  const r = await api.post("/v1/wallets", body);
  expect(r.status).toBe(201);
  return r.body.id;
}

/** The partition a wallet was given at creation (its operations' runner, when it is debited). */
export async function partitionOf(system: TestSystem, walletId: string): Promise<number> {
  const r = await system.db.execute<{ partition: number }>(
    sql`SELECT partition FROM wallets WHERE id = ${walletId}`,
  );
  const p = r.rows[0]?.partition;
  if (p === undefined) throw new Error(`no wallet ${walletId}`);
  return p;
}

/**
 * At least `count` new wallets of `api`'s client, and as many more as it takes for every one of
 * the system's partitions to hold one: a random wallet's partition is the hash of its id, and a
 * test whose every worker or partition must have work cannot leave that to chance.
 */
export async function walletsInEveryPartition(
  system: TestSystem,
  api: Api,
  count: number,
): Promise<string[]> {
  const wallets: string[] = [];
  const covered = new Set<number>();
  while (wallets.length < count || covered.size < system.partitions) {
    const w = await newWallet(api);
    wallets.push(w);
    covered.add(await partitionOf(system, w));
  }
  return wallets;
}

/** Resolves once no operation is pending (polls Postgres). */
export async function waitAllSettled(system: TestSystem, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await system.db.execute<{ n: string }>(
      sql`SELECT count(*)::text AS n FROM operations WHERE status = 'pending'`,
    );
    if (r.rows[0]?.n === "0") return;
    if (Date.now() > deadline) throw new Error(`${r.rows[0]?.n} operations still pending`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Follows `nextCursor` from the first page to the last (`limit` per page); returns the pages' data. */
export async function walkPages<T>(client: Api, path: string, limit: number): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | null = null;
  const sep = path.includes("?") ? "&" : "?";
  do {
    const r = await client.get(
      `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(["data", "nextCursor"]);
    pages.push(r.body.data);
    cursor = r.body.nextCursor;
    expect(pages.length).toBeLessThan(50);
  } while (cursor !== null);
  return pages;
}

/**
 * One request on a TCP connection of its own (no keep-alive pool), optionally from a given local
 * address: a new client each time, as far as the server can tell (a process of a node:cluster
 * api is picked per connection; an address is what the auth-failure bound counts).
 */
export function requestOnOwnConnection(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: unknown; localAddress?: string } = {},
): Promise<Reply> {
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method ?? "GET",
        agent: false,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
        headers: { ...(body ? { "content-type": "application/json" } : {}), ...opts.headers },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") headers.set(k, v);
          resolve({ status: res.statusCode ?? 0, headers, body: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
