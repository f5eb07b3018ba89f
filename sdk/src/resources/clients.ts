import type { CallOptions, Transport } from "../transport.ts";
import type { CreateClient, CreatedClient } from "../types.ts";

/** `POST /v1/clients`: the operator's only route (a Billing made with the operator's token). */
export class Clients {
  readonly #transport: Transport;
  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Creates a client; its `apiKey` is in this answer only. Not idempotent. */
  async create(body: CreateClient, options?: CallOptions): Promise<CreatedClient> {
    return (
      await this.#transport.request<CreatedClient>({
        method: "POST",
        path: "/v1/clients",
        body,
        repeatable: "once",
        options,
      })
    ).body;
  }
}
