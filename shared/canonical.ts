import { hash } from "node:crypto";

/** JSON with object keys sorted at every depth, so equal requests serialise equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, o[k]]),
      );
    }
    return v;
  });
}

/** SHA-256 (hex) of the canonical JSON of `value`: an operation's request hash. */
export const requestHash = (value: unknown): string => hash("sha256", canonicalJson(value), "hex");
