import { BillingError } from "../errors.ts";
import type { PageIterator } from "../pages.ts";
import type { CallOptions, Transport } from "../transport.ts";
import type {
  CreatedWebhookEndpoint,
  CreateWebhookEndpoint,
  PageQuery,
  WebhookDelivery,
  WebhookEndpoint,
} from "../types.ts";
import { pages } from "./wallets.ts";

/** `/v1/webhook-endpoints`: where the client hears about its operations' outcomes. */
export class WebhookEndpoints {
  readonly #transport: Transport;
  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Registers an endpoint; the answer carries its signing `secret`, shown this once. Not idempotent. */
  async create(body: CreateWebhookEndpoint, options?: CallOptions): Promise<CreatedWebhookEndpoint> {
    const path = "/v1/webhook-endpoints";
    return (
      await this.#transport.request<CreatedWebhookEndpoint>({
        method: "POST",
        path,
        body,
        repeatable: "once",
        options,
      })
    ).body;
  }

  /** The client's live endpoints, newest first (never their secrets). */
  list(query: PageQuery = {}, options?: CallOptions): PageIterator<WebhookEndpoint> {
    return pages<WebhookEndpoint>(this.#transport, "/v1/webhook-endpoints", query, options);
  }

  /**
   * Deletes an endpoint: it gets no further delivery. A `not_found` on a retry (an earlier attempt
   * of this call deleted it, its answer lost) counts as done.
   */
  async delete(id: string, options?: CallOptions): Promise<void> {
    const path = `/v1/webhook-endpoints/${encodeURIComponent(id)}`;
    try {
      await this.#transport.request<undefined>({ method: "DELETE", path, repeatable: "safe", options });
    } catch (err) {
      if (!(err instanceof BillingError && err.code === "not_found" && err.attempts > 1)) throw err;
    }
  }

  /** An endpoint's deliveries, newest first, with their attempts so far. */
  deliveries(id: string, query: PageQuery = {}, options?: CallOptions): PageIterator<WebhookDelivery> {
    const path = `/v1/webhook-endpoints/${encodeURIComponent(id)}/deliveries`;
    return pages<WebhookDelivery>(this.#transport, path, query, options);
  }
}
