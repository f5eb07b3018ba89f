import type { Express } from "express";

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
}

/**
 * Every route an Express 5 app serves, as `"METHOD /path"` with `:params`, found by walking the
 * router stack (nested routers included; `rawPath` is their mount path). A router's own root
 * route (`/`) is reported as the mount path, as the request log does.
 */
export function expressRoutes(app: Express): string[] {
  const routes: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const path = layer.route.path === "/" && prefix !== "" ? prefix : `${prefix}${layer.route.path}`;
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (on && method !== "_all") routes.push(`${method.toUpperCase()} ${path}`);
        }
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === "string" && layer.rawPath !== "/" ? layer.rawPath : "";
        walk(layer.handle.stack, `${prefix}${mount}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, "");
  return routes.sort();
}
