import type { Router } from "express";
import type { Registry } from "prom-client";
import { ApiError } from "../../shared/errors.ts";
import { mountedRouter } from "../middleware/request-context.ts";
import type { Readiness } from "../services/readiness.ts";
import {
  DOCS_SCRIPT_PATH,
  type DocsOperation,
  type DocsScript,
  docsPageHtml,
  loadDocsScript,
} from "./docs-page.ts";

export interface OpsDeps {
  /** Content type of the Prometheus text. */
  registry: Pick<Registry, "contentType">;
  /** `/metrics`: this process's registry, or the whole instance's with API_PROCESSES (cluster-metrics.ts). */
  metricsText: () => Promise<string>;
  readiness: () => Promise<Readiness>;
  /** True once the process is shutting down. */
  draining: () => boolean;
  /** The OpenAPI document, serialized (built once, on first use). */
  openApiJson: () => string;
}

/** The operations of a serialized OpenAPI document, for the docs page's fallback list. */
function operationsOf(openApiJson: string): DocsOperation[] {
  const doc = JSON.parse(openApiJson) as { paths: Record<string, Record<string, { summary?: string }>> };
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      summary: op.summary ?? "",
    })),
  );
}

/** The operations endpoints of docs/api.md: no authentication, not rate limited. */
export function opsRoute(deps: OpsDeps): Router {
  const router = mountedRouter();

  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  router.get("/readyz", async (_req, res) => {
    const checks = await deps.readiness();
    const down = Object.entries(checks)
      .filter(([, state]) => state === "down")
      .map(([name]) => name);
    if (deps.draining()) {
      throw new ApiError("overloaded", "Not ready: this process is shutting down.", {
        retryAfter: 1,
        extensions: { checks },
      });
    }
    if (down.length > 0) {
      throw new ApiError("overloaded", `Not ready: ${down.join(" and ")} did not answer within 1 s.`, {
        retryAfter: 1,
        extensions: { checks },
      });
    }
    res.json({ status: "ok", checks });
  });

  router.get("/metrics", async (_req, res) => {
    res.type(deps.registry.contentType).send(await deps.metricsText());
  });

  router.get("/openapi.json", (_req, res) => {
    res.type("application/json").send(deps.openApiJson());
  });

  // Read once, on the first request: 4 MB that most api processes never serve.
  let script: DocsScript | undefined;
  let page: string | undefined;
  router.get("/docs", (_req, res) => {
    script ??= loadDocsScript();
    page ??= docsPageHtml({
      title: "Wallet billing API",
      integrity: script.integrity,
      operations: operationsOf(deps.openApiJson()),
    });
    res.type("text/html").send(page);
  });

  router.get(DOCS_SCRIPT_PATH, (_req, res) => {
    script ??= loadDocsScript();
    // An hour: the file changes only with the api's own version.
    res.type("text/javascript").setHeader("Cache-Control", "public, max-age=3600").send(script.body);
  });

  return router;
}
