import { PageIterator } from "../pages.ts";
import type { CallOptions, Transport } from "../transport.ts";
import type { BulkItem, BulkResult, ListOperationsQuery, Operation, Page } from "../types.ts";

/** A bulk submission's answer: one result per item, in order, with the key each item was sent under. */
export interface BulkSubmitted {
  results: (BulkResult & { idempotencyKey: string })[];
  requestId: string;
}

/** The longest `?wait=` the API holds a request, s (docs/api.md). */
const MAX_WAIT_SECONDS = 30;

export interface WaitOptions extends CallOptions {
  /** How long to wait for the operation to leave `pending`, ms; default 30 s. */
  timeoutMs?: number;
}

/** `GET /v1/operations/:id` (optionally long-polled) and `GET /v1/operations`. */
export class Operations {
  readonly #transport: Transport;
  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** The operation's current state. */
  async get(id: string, options?: CallOptions): Promise<Operation> {
    const path = `/v1/operations/${encodeURIComponent(id)}`;
    return (await this.#transport.request<Operation>({ method: "GET", path, repeatable: "safe", options }))
      .body;
  }

  /**
   * Waits until the operation is `succeeded` or `failed`, or `timeoutMs` passes, and resolves
   * with its state then: still `pending` at the deadline (check `status`). Long polls
   * (`?wait=`, at most 30 s each), so the answer comes as soon as a worker has applied it.
   */
  async wait(id: string, options: WaitOptions = {}): Promise<Operation> {
    const { timeoutMs = 30_000, ...call } = options;
    const deadline = Date.now() + timeoutMs;
    const path = `/v1/operations/${encodeURIComponent(id)}`;
    for (;;) {
      const waitSeconds = Math.max(0, Math.min(MAX_WAIT_SECONDS, Math.ceil((deadline - Date.now()) / 1_000)));
      const { body } = await this.#transport.request<Operation>({
        method: "GET",
        path,
        query: { wait: waitSeconds },
        repeatable: "safe",
        extraTimeoutMs: waitSeconds * 1_000,
        options: call,
      });
      if (body.status !== "pending" || Date.now() >= deadline) return body;
    }
  }

  /**
   * `POST /v1/operations/bulk`: up to 1,000 operations at once, each accepted or refused on its
   * own (a refused item is a result with its problem, not an exception). An item without an
   * `idempotencyKey` gets a UUID once, before the first attempt, so a retried request replays the
   * items already accepted instead of creating them again.
   */
  async bulk(items: BulkItem[], options?: CallOptions): Promise<BulkSubmitted> {
    const operations = items.map((item) => ({
      ...item,
      idempotencyKey: item.idempotencyKey ?? globalThis.crypto.randomUUID(),
    }));
    const reply = await this.#transport.request<{ data: BulkResult[] }>({
      method: "POST",
      path: "/v1/operations/bulk",
      body: { operations },
      repeatable: "safe",
      options,
    });
    return {
      results: reply.body.data.map((r, i) => ({ ...r, idempotencyKey: operations[i]?.idempotencyKey ?? "" })),
      requestId: reply.headers.get("x-request-id") ?? "",
    };
  }

  /** The client's operations, newest first, optionally of one wallet, in one status and/or of one type. */
  list(query: ListOperationsQuery = {}, options?: CallOptions): PageIterator<Operation> {
    const { cursor, ...rest } = query;
    return new PageIterator(async (after) => {
      const reply = await this.#transport.request<Page<Operation>>({
        method: "GET",
        path: "/v1/operations",
        query: { ...rest, cursor: after },
        repeatable: "safe",
        options,
      });
      return reply.body;
    }, cursor);
  }
}
