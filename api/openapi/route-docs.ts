import type { ZodOpenApiOperationObject } from "zod-openapi";

/** A route as Express knows it: `"<METHOD> <path with :params>"`, e.g. `"GET /v1/wallets/:id"`. */
export type RouteKey = `${"GET" | "POST" | "PUT" | "PATCH" | "DELETE"} /${string}`;
/** A family of routes' OpenAPI operations, by route (each `*-route-docs.ts` exports one). */
export type RouteDocs = Record<RouteKey, ZodOpenApiOperationObject>;
