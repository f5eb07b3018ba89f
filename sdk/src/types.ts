import type { components, operations } from "./generated/openapi.ts";

/**
 * The resources and request shapes of the API, named from the generated declarations
 * (./generated/openapi.ts, from the OpenAPI document; never edited by hand).
 */

type Schemas = components["schemas"];
export type Wallet = Schemas["Wallet"];
export type Entry = Schemas["Entry"];
export type Operation = Schemas["Operation"];
export type CreatedClient = Schemas["CreatedClient"];
export type WebhookEndpoint = Schemas["WebhookEndpoint"];
export type CreatedWebhookEndpoint = Schemas["CreatedWebhookEndpoint"];
export type WebhookDelivery = Schemas["WebhookDelivery"];
/** A hold's state, on a succeeded `hold` operation. */
export type Hold = Schemas["Hold"];
export type BalanceAt = Schemas["BalanceAt"];
/** The answer to one item of a bulk submission: accepted (202) or refused with its problem. */
export type BulkResult = Schemas["BulkResult"];
/** RFC 9457 problem details: the body of every 4xx and 5xx answer. */
export type Problem = Schemas["Problem"];
export type ProblemCode = Problem["code"];

/** The JSON request body of an operation of the document, by operationId. */
export type RequestBody<Id extends keyof operations> = operations[Id] extends {
  requestBody: { content: { "application/json": infer B } };
}
  ? B
  : never;

/** The query parameters of an operation of the document, by operationId. */
export type Query<Id extends keyof operations> = NonNullable<operations[Id]["parameters"]["query"]>;

export type CreateClient = RequestBody<"createClient">;
export type CreateWallet = RequestBody<"createWallet">;
export type CreateTopUp = RequestBody<"createTopUp">;
export type CreateTransfer = RequestBody<"createTransfer">;
export type CreateWebhookEndpoint = RequestBody<"createWebhookEndpoint">;
export type CreatePayout = RequestBody<"createPayout">;
export type CreateHold = RequestBody<"createHold">;
export type CaptureHold = RequestBody<"captureHold">;
export type VoidHold = RequestBody<"voidHold">;
export type CreateRefund = RequestBody<"createRefund">;
/** One item of a bulk submission; `idempotencyKey` is generated when left out (see `operations.bulk`). */
export type BulkItem = DistributiveOptionalKey<RequestBody<"submitOperations">["operations"][number]>;

type DistributiveOptionalKey<T> = T extends { idempotencyKey: string }
  ? Omit<T, "idempotencyKey"> & { idempotencyKey?: string }
  : never;

/** `limit` (1..100, default 20) and a `cursor` to start after; iterators follow `nextCursor` from there. */
export type PageQuery = Query<"listWallets">;
export type ListOperationsQuery = Query<"listOperations">;

/** One page of a list, newest first. */
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** A money movement accepted by the API (202): applied asynchronously, see `operations.wait`. */
export interface Accepted {
  /** The operation as the API answered: `pending`, or its current state for a replay. */
  operation: Operation;
  /** True when the API answered an earlier request sent with the same key and body. */
  replayed: boolean;
  /** The Idempotency-Key sent (the caller's, or the one generated for this call). */
  idempotencyKey: string;
  /** The answer's X-Request-Id. */
  requestId: string;
}
