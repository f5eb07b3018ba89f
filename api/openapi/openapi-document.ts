import { createDocument, type ZodOpenApiPathsObject } from "zod-openapi";
import { integerFormat } from "./integer-format.ts";
import type { RouteDocs } from "./route-docs.ts";
import { routeRegistry } from "./route-registry.ts";

const DESCRIPTION = `A wallet billing API: clients open wallets, top them up, transfer money between them, pay it out, reserve it with holds to capture or void later, and refund what they received.

**Money moves asynchronously.** \`POST /v1/top-ups\`, \`/v1/transfers\`, \`/v1/payouts\`, \`/v1/holds\`, a hold's \`/capture\` and \`/void\`, \`/v1/refunds\`, and \`/v1/operations/bulk\` (up to 1,000 at once) answer 202 with a \`pending\` operation once it is stored; a worker applies it shortly after and it becomes \`succeeded\` or \`failed\` (with \`failure.code\`), exactly once. Follow it with \`GET /v1/operations/{id}?wait=N\`. Amounts are integers of minor units (cents), 1..2^53-1.

**Authentication.** \`Authorization: Bearer <key>\` on every \`/v1\` route: a client's API key (\`sk_…\`), or the operator's token for \`POST /v1/clients\` only. A client sees and debits only its own wallets; another client's wallet answers 404 exactly like a missing one.

**Idempotency.** Money requests require an \`Idempotency-Key\`; repeating a request with the same key and body never creates a second operation.

**Errors** are RFC 9457 problem details (\`application/problem+json\`) with a stable \`code\` and the \`requestId\` of the \`X-Request-Id\` header.

**Limits.** Each client has a request quota per window, shared by all api servers (429 \`rate_limited\`, RateLimit and RateLimit-Policy headers of draft-ietf-httpapi-ratelimit-headers-10). When the system is behind, new money requests get 503 \`overloaded\` with \`Retry-After\` and create nothing; replays are still answered.

**Lists** are newest first, \`?limit=\` 1..100 (default 20) and an opaque \`?cursor=\` from the previous page of the same list (another list's is a 400); out-of-range values are a 400, never clamped.`;

/** `/v1/wallets/:id` → `/v1/wallets/{id}`. */
export const openApiPath = (expressPath: string): string => expressPath.replace(/:(\w+)/g, "{$1}");

/** The paths object of a route registry, keyed by OpenAPI path then lower-case method. */
function toPaths(routes: RouteDocs): ZodOpenApiPathsObject {
  const paths: ZodOpenApiPathsObject = {};
  for (const [key, operation] of Object.entries(routes)) {
    const [method = "", path = ""] = key.split(" ");
    const item = paths[openApiPath(path)] ?? {};
    paths[openApiPath(path)] = item;
    item[method.toLowerCase() as "get" | "post" | "put" | "patch" | "delete"] = operation;
  }
  return paths;
}

/** `info.version` of the document: the version of the HTTP contract (docs/api.md, v1). */
export const API_VERSION = "1.0.0";

/** The OpenAPI 3.1 document of the api, generated from the route registry's zod schemas. */
export function createOpenApiDocument(version: string = API_VERSION): ReturnType<typeof createDocument> {
  return createDocument(
    {
      openapi: "3.1.0",
      info: { title: "Wallet billing API", version, description: DESCRIPTION },
      // Relative: the host this document was read from. A client sets its own base URL anyway.
      servers: [
        { url: "/", description: "The api that serves this document (every api process serves the same)" },
      ],
      tags: [
        { name: "Clients", description: "The operator creates clients and hands them their API key." },
        { name: "Wallets", description: "A client's wallets and their ledger entries." },
        {
          name: "Operations",
          description:
            "Top-ups, transfers, payouts and refunds, one at a time or in bulk: accepted at once, applied asynchronously.",
        },
        {
          name: "Holds",
          description:
            "Two-phase transfers: reserve money now (a hold), move it later (a capture) or release it (a void, or the hold's expiry).",
        },
        {
          name: "Webhooks",
          description: "Endpoints that hear about the client's operation outcomes, and their deliveries.",
        },
        { name: "Service", description: "Health, readiness, metrics and this document. No authentication." },
      ],
      components: {
        securitySchemes: {
          clientKey: {
            type: "http",
            scheme: "bearer",
            description:
              "A client's API key (`sk_` + 43 base64url characters), shown once when the client is created.",
          },
          operatorToken: {
            type: "http",
            scheme: "bearer",
            description: "The operator's token (the ADMIN_TOKEN setting). It can only create clients.",
          },
        },
      },
      paths: toPaths(routeRegistry),
    },
    { override: integerFormat },
  );
}
