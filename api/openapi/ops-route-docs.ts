import { z } from "zod";
import { problemSchema } from "../../shared/http/resources.ts";
import { plainHeaders, retryAfter } from "./common-docs.ts";
import type { RouteDocs } from "./route-docs.ts";

/** The operations endpoints (docs/api.md): no authentication, not rate limited. */

const text = (description: string, mediaType: string) => ({
  description,
  headers: plainHeaders,
  content: { [mediaType]: { schema: z.string() } },
});

const checks = z.strictObject({ postgres: z.enum(["ok", "down"]), redis: z.enum(["ok", "down"]) });

export const opsRouteDocs: RouteDocs = {
  "GET /healthz": {
    operationId: "getLiveness",
    tags: ["Service"],
    summary: "Liveness",
    description: "200 while the process runs. Checks nothing else: use /readyz for the dependencies.",
    security: [],
    responses: {
      "200": {
        description: "The process is up",
        headers: plainHeaders,
        content: { "application/json": { schema: z.strictObject({ status: z.literal("ok") }) } },
      },
    },
  },
  "GET /readyz": {
    operationId: "getReadiness",
    tags: ["Service"],
    summary: "Readiness",
    description:
      "200 when Postgres and Redis each answer within 1 s; else 503 `overloaded` naming the one that did not (in `checks` and `detail`). Also 503 while the process shuts down, so that a load balancer stops sending it requests.",
    security: [],
    responses: {
      "200": {
        description: "Postgres and Redis answer",
        headers: plainHeaders,
        content: { "application/json": { schema: z.strictObject({ status: z.literal("ok"), checks }) } },
      },
      "503": {
        description: "A dependency did not answer in time, or the process is shutting down",
        headers: plainHeaders.extend({ "Retry-After": retryAfter }),
        content: { "application/problem+json": { schema: problemSchema } },
      },
    },
  },
  "GET /metrics": {
    operationId: "getMetrics",
    tags: ["Service"],
    summary: "Prometheus metrics",
    description:
      "Prometheus text exposition of this api process (HTTP latency by route template and status, operations accepted, refusals, backlog per partition, process metrics). Unauthenticated: do not expose it publicly. Workers serve their own on METRICS_PORT.",
    security: [],
    responses: { "200": text("Prometheus text format 0.0.4", "text/plain") },
  },
  "GET /openapi.json": {
    operationId: "getOpenApiDocument",
    tags: ["Service"],
    summary: "This document",
    description: "OpenAPI 3.1, generated from the zod schemas that validate the requests.",
    security: [],
    responses: {
      "200": {
        description: "The OpenAPI document",
        headers: plainHeaders,
        content: { "application/json": { schema: z.looseObject({ openapi: z.string() }) } },
      },
    },
  },
  "GET /docs": {
    operationId: "getDocsPage",
    tags: ["Service"],
    summary: "API reference page",
    description:
      "An HTML page that renders /openapi.json with Scalar's API reference, whose script this api serves itself (GET /docs/api-reference.js): it works without internet. Without JavaScript it shows the title, a link to /openapi.json and the list of operations.",
    security: [],
    responses: { "200": text("An HTML page", "text/html") },
  },
  "GET /docs/api-reference.js": {
    operationId: "getDocsScript",
    tags: ["Service"],
    summary: "The API reference's script",
    description:
      "The browser bundle of `@scalar/api-reference`, the exact version the repository pins, served from the installed package (or the build's copy of it). Loaded by /docs with Subresource Integrity.",
    security: [],
    responses: { "200": text("JavaScript", "text/javascript") },
  },
};
