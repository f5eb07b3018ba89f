import { randomUUID } from "node:crypto";
import { type NextFunction, type Request, type Response, Router } from "express";
import type { Logger } from "pino";
import type { ApiMetrics } from "../../shared/metrics/api-metrics.ts";

/** A caller's request id worth echoing: 1..200 printable ASCII characters, spaces inside allowed. */
const CALLER_ID = /^[\x21-\x7e](?:[\x20-\x7e]{0,198}[\x21-\x7e])?$/;

/**
 * Echoes the caller's X-Request-Id when it is sane, else makes one; on finish, logs one line
 * (request id, client id, method, route template, status, duration; never headers or bodies)
 * and observes the HTTP duration histogram. While the process drains, answers carry
 * `Connection: close` so that keep-alive clients reconnect to another server.
 */
export function requestContext(
  log: Logger,
  metrics: Pick<ApiMetrics, "observeRequest">,
  draining: () => boolean,
) {
  // The request line's fields are fixed below and none is a credential, so it skips the logger's
  // redaction paths, which cost 3.4 µs a line for nothing (docs/performance.md, "The request
  // line without redaction"). A field added to it must not carry a secret.
  const lines = log.child({}, { redact: [] });
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = req.get("x-request-id");
    const requestId = given && CALLER_ID.test(given) ? given : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader("X-Request-Id", requestId);
    if (draining()) res.setHeader("Connection", "close");
    const started = performance.now();
    res.on("finish", () => {
      const ms = performance.now() - started;
      // The template (`/v1/wallets/:id`), never the URL: bounded labels, no ids in logs' route field.
      // By now Express has reset req.baseUrl if an error left the router: use the remembered one.
      const route = routeTemplate(req.route?.path, res.locals.mountPath ?? req.baseUrl);
      metrics.observeRequest(req.method, route, res.statusCode, ms / 1000);
      lines.info(
        {
          requestId,
          clientId: res.locals.principal?.kind === "client" ? res.locals.principal.clientId : undefined,
          method: req.method,
          route,
          status: res.statusCode,
          durationMs: Math.round(ms * 10) / 10,
        },
        "request",
      );
    });
    next();
  };
}

/**
 * Remembers the router's mount path (`/v1/wallets`) while the request is inside it, for the route
 * template of the request line (Express resets `req.baseUrl` when an error leaves the router).
 */
function rememberMount(req: Request, res: Response, next: NextFunction): void {
  res.locals.mountPath = req.baseUrl;
  next();
}

/** An Express router whose requests keep their route template in logs and metrics: make every router with it. */
export function mountedRouter(): Router {
  const router = Router();
  router.use(rememberMount);
  return router;
}

/** `/v1/wallets` + `/:id`; a router's own root (`/`) adds nothing; no route is "unmatched". */
export function routeTemplate(routePath: unknown, mountPath: string): string {
  if (typeof routePath !== "string") return "unmatched";
  return routePath === "/" && mountPath !== "" ? mountPath : `${mountPath}${routePath}`;
}
