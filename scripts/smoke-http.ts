import { setTimeout as sleep } from "node:timers/promises";
import type { OperationResource, Page } from "../shared/http/resources.ts";

/**
 * HTTP helpers of scripts/compose-smoke.ts: requests to the api at API_URL (default
 * http://127.0.0.1:3000), reads retried over a short fault, paged lists followed to the end, and
 * money requests retried under their Idempotency-Key until accepted.
 */

const apiUrl = (process.env.API_URL || "http://127.0.0.1:3000").replace(/\/$/, "");

/** A failed check: its message is the report (no stack trace). */
export class SmokeError extends Error {}
export const fail = (message: string): never => {
  throw new SmokeError(message);
};

/** One JSON request to the api; the body is `{}` when the answer is not JSON (a proxy's error page). */
export async function request<T>(method: string, path: string, key: string, body?: unknown, idem?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (idem !== undefined) headers["idempotency-key"] = idem;
  const res = await fetch(`${apiUrl}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  let parsed: unknown = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    // Not JSON: the caller reports `text`.
  }
  return { status: res.status, headers: res.headers, text, body: parsed as T };
}

/** GET that must answer 200 (a read is retried over a short fault: the stack may be restarting). */
export async function get<T>(path: string, key: string): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const r = await request<T>("GET", path, key).catch((err: unknown) => ({ status: 0, text: String(err) }));
    if (r.status === 200 && "body" in r) return r.body;
    if (attempt >= 10 || (r.status >= 400 && r.status < 500)) fail(`GET ${path}: ${r.status} ${r.text}`);
    await sleep(500);
  }
}

/** Every item of a paged list, following nextCursor. */
export async function all<T>(path: string, key: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page: Page<T> = await get<Page<T>>(
      `${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      key,
    );
    items.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/** POSTs a money request under `idem` until it is accepted; counts what it had to retry. */
export async function accept(
  path: string,
  key: string,
  body: unknown,
  idem: string,
  retries: Map<string, number>,
) {
  const deadline = performance.now() + 120_000;
  for (let attempt = 1; ; attempt++) {
    let r: Awaited<ReturnType<typeof request<OperationResource>>> | undefined;
    let why: string;
    try {
      r = await request<OperationResource>("POST", path, key, body, idem);
      if (r.status === 202) return { op: r.body, replayed: r.headers.get("idempotent-replayed") === "true" };
      why = String(r.status);
    } catch (err) {
      why = `network ${err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err)}`;
    }
    const status = r?.status ?? 0;
    if (status !== 0 && status !== 429 && status < 500) fail(`POST ${path} (${idem}): ${status} ${r?.text}`);
    if (performance.now() > deadline)
      fail(`POST ${path} (${idem}): not accepted after ${attempt} tries (${why})`);
    retries.set(why, (retries.get(why) ?? 0) + 1);
    const after = Number(r?.headers.get("retry-after") ?? "");
    await sleep(Number.isFinite(after) && after > 0 ? after * 1000 : Math.min(100 * attempt, 1_000));
  }
}
