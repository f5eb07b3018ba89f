import { z } from "zod";
import { idempotencyKeySchema } from "../../shared/http/fields.ts";
import {
  balanceAtSchema,
  createdClientSchema,
  entryPageSchema,
  operationPageSchema,
  operationSchema,
  walletPageSchema,
  walletSchema,
} from "../../shared/http/resources.ts";
import {
  balanceAtQuery,
  createClientBody,
  createWalletBody,
  getOperationQuery,
  listOperationsQuery,
  pageQuery,
} from "../../shared/http/schemas.ts";
import {
  authenticatedErrors,
  clientSecurity,
  idParam,
  jsonResponse,
  operatorSecurity,
  postErrors,
  problems,
  v1Headers,
} from "./common-docs.ts";
import type { RouteDocs } from "./route-docs.ts";

/** The `/v1` routes of docs/api.md, documented from the zod schemas that validate them. */

export const json = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

export const idempotencyKey = z.object({
  "Idempotency-Key": idempotencyKeySchema.meta({
    description:
      "Required. 1..255 printable ASCII, scoped to the client, kept at least 24 hours. The same key with the same body (compared canonically: parsed, defaults applied, keys sorted) answers the same operation again, however often and however concurrently it is sent; with another body it is a 422 and nothing is created.",
    param: { id: "IdempotencyKey" },
  }),
});

export const accepted = jsonResponse(
  "Accepted: the operation is stored (`pending`) and will be applied by a worker. A replay of the same key and body answers the same operation in its current state, with `Idempotent-Replayed: true`.",
  operationSchema,
  v1Headers.extend({
    Location: z.string().meta({ description: "`/v1/operations/<id>`: poll it, or long-poll with `?wait=N`" }),
    "Idempotent-Replayed": z
      .literal("true")
      .optional()
      .meta({ description: "Present, `true`, when this answers a replay of an earlier request" }),
  }),
);

export const ACCEPT_ORDER =
  "Checked at once, in this order: authentication (401), the Idempotency-Key header and the body (400), the idempotency key (a replay answers here; another body under the key is 422), the wallets (404, 422), backpressure (503, never for a replay). Balances are checked when the operation is applied: an operation that cannot be applied ends `failed` with `failure.code`.";

const pageParams = "Pages are newest first; `nextCursor` is null on the last page.";

export const moneyRouteDocs: RouteDocs = {
  "POST /v1/clients": {
    operationId: "createClient",
    tags: ["Clients"],
    summary: "Create a client (operator only)",
    description:
      "Only the operator's token (ADMIN_TOKEN) may call this. The client's API key is in this answer and nowhere else: only its SHA-256 and a short prefix are stored.",
    security: operatorSecurity,
    requestBody: json(createClientBody),
    responses: { "201": jsonResponse("The client, with its API key", createdClientSchema), ...postErrors },
  },
  "POST /v1/wallets": {
    operationId: "createWallet",
    tags: ["Wallets"],
    summary: "Open a wallet",
    description:
      "A new wallet of the calling client, balance 0. Send `{}` for a USD wallet without metadata.",
    security: clientSecurity,
    requestBody: json(createWalletBody),
    responses: { "201": jsonResponse("The wallet", walletSchema), ...postErrors },
  },
  "GET /v1/wallets": {
    operationId: "listWallets",
    tags: ["Wallets"],
    summary: "List the client's wallets",
    description: `The calling client's wallets only. ${pageParams}`,
    security: clientSecurity,
    requestParams: { query: pageQuery },
    responses: {
      "200": jsonResponse("A page of wallets", walletPageSchema),
      ...authenticatedErrors,
    },
  },
  "GET /v1/wallets/:id": {
    operationId: "getWallet",
    tags: ["Wallets"],
    summary: "Get a wallet",
    description:
      "The client's own wallet. Another client's wallet is a 404, exactly like one that does not exist.",
    security: clientSecurity,
    requestParams: { path: idParam("Wallet id") },
    responses: {
      "200": jsonResponse("The wallet", walletSchema),
      "404": problems.walletNotFound,
      ...authenticatedErrors,
    },
  },
  "GET /v1/wallets/:id/balance": {
    operationId: "getWalletBalance",
    tags: ["Wallets"],
    summary: "A wallet's balance at an instant",
    description:
      "The posted balance and version as of `at`: every entry whose `createdAt`, as the API shows it (milliseconds), is at or before `at` counts; 0 and 0 before the first entry. Held money is not part of it (holds post no entry). `at` is required, an ISO 8601 time with `Z` or an offset, not later than the server's clock (else 400): the database's clock, which stamps the entries, not the api host's. The answer for an instant never changes: it counts every entry that will ever be dated at or before `at`. There is no margin: an `at` as recent as the server's clock now is answered, once an operation posting to this wallet at that moment has committed (the request waits for it, usually milliseconds) and the server's clock has left `at`'s millisecond (at most 1 ms). A commit that takes longer than the database statement timeout (`DB_STATEMENT_TIMEOUT_MS`, 10 s by default) is a 503 `overloaded`; ask again. A binary search of the wallet's entries: about 20 index probes for a million entries.",
    security: clientSecurity,
    requestParams: { path: idParam("Wallet id"), query: balanceAtQuery },
    responses: {
      "200": jsonResponse("The balance then", balanceAtSchema),
      "404": problems.walletNotFound,
      ...authenticatedErrors,
    },
  },
  "GET /v1/wallets/:id/entries": {
    operationId: "listWalletEntries",
    tags: ["Wallets"],
    summary: "List a wallet's ledger entries",
    description: `Entries in posting order, newest first: read oldest to newest, each entry's \`balanceAfter\` is the previous one's plus its \`amount\`, and the newest one's equals the wallet's balance. A credit's \`operationId\` may name another client's operation, which this client cannot fetch. ${pageParams}`,
    security: clientSecurity,
    requestParams: { path: idParam("Wallet id"), query: pageQuery },
    responses: {
      "200": jsonResponse("A page of entries", entryPageSchema),
      "404": problems.walletNotFound,
      ...authenticatedErrors,
    },
  },
  "GET /v1/operations": {
    operationId: "listOperations",
    tags: ["Operations"],
    summary: "List the client's operations",
    description: `Operations the calling client submitted, optionally those touching one of its wallets (as source or destination), in one status and/or of one type (\`?type=hold\`, …). A \`walletId\` the client does not own is a 404 \`wallet_not_found\`. ${pageParams} A page filtered by \`walletId\`, \`type\` or a final status examines at most 1,000 operations (per side of the wallet) and may then hold fewer than \`limit\` items, even none, with a \`nextCursor\` that goes on from where it stopped: a short page is not the last one, a null \`nextCursor\` is. Unfiltered and \`?status=pending\` pages are always full.`,
    security: clientSecurity,
    requestParams: { query: listOperationsQuery },
    responses: {
      "200": jsonResponse("A page of operations", operationPageSchema),
      "404": problems.walletNotFound,
      ...authenticatedErrors,
    },
  },
  "GET /v1/operations/:id": {
    operationId: "getOperation",
    tags: ["Operations"],
    summary: "Get an operation (optionally waiting for it)",
    description:
      "An operation the calling client submitted; any other id is a 404. Status is read from the database. With `?wait=N` (seconds, 0..30) the request is held until the operation is no longer `pending` or N seconds pass, then answers with its current state (still `pending` at the deadline is a 200, not an error); a server shutting down answers held requests at once. The request holds no database connection while it waits.",
    security: clientSecurity,
    requestParams: { path: idParam("Operation id"), query: getOperationQuery },
    responses: {
      "200": jsonResponse("The operation", operationSchema),
      "404": problems.notFound,
      ...authenticatedErrors,
    },
  },
};
