import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { z } from "zod";
import {
  apiConfigSchema,
  type baseConfigSchema,
  migrateConfigSchema,
  workerConfigSchema,
} from "../../shared/config.ts";

/** Readers of the packaging files (docker-compose.yml, Dockerfiles, .env.example) for the unit tests. */

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export const readRepoFile = (path: string): string => readFileSync(`${ROOT}${path}`, "utf8");
export const repoFileExists = (path: string): boolean => existsSync(`${ROOT}${path}`);

/** The package scripts of package.json, by name. */
export function packageScripts(): Record<string, string> {
  const pkg = z
    .object({ scripts: z.record(z.string(), z.string()) })
    .parse(JSON.parse(readRepoFile("package.json")));
  return pkg.scripts;
}

type ConfigSchema =
  | typeof baseConfigSchema
  | typeof apiConfigSchema
  | typeof workerConfigSchema
  | typeof migrateConfigSchema;

/** The package scripts a container may run, and the config schema each one's process parses. */
export const SCRIPT_SCHEMAS: Record<string, ConfigSchema> = {
  "db:migrate": migrateConfigSchema,
  "start:api": apiConfigSchema,
  "start:worker": workerConfigSchema,
};

/** The keys of a config schema that have no default and are not optional: what must be set. */
export function requiredKeys(schema: ConfigSchema): string[] {
  return Object.entries(schema.shape)
    .filter(([, field]) => !field.safeParse(undefined).success)
    .map(([key]) => key);
}

/** The default of each key of a schema that has one, as it would be written in the environment. */
export function defaults(schema: ConfigSchema): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, field] of Object.entries(schema.shape)) {
    const parsed = field.safeParse(undefined);
    if (parsed.success && parsed.data !== undefined) {
      out.set(key, Array.isArray(parsed.data) ? parsed.data.join(",") : String(parsed.data));
    }
  }
  return out;
}

/**
 * Compose's variable interpolation, as both v1 and v2 do it: `$$` is a literal `$`; `${VAR}`,
 * `$VAR`, `${VAR:-default}` (unset or empty), `${VAR-default}` (unset), `${VAR:?error}` and
 * `${VAR?error}` (throw), `${VAR:+alt}` and `${VAR+alt}`. `vars` is the whole environment.
 */
export function interpolate(value: string, vars: Readonly<Record<string, string>>): string {
  const re = /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;
  return value.replace(
    re,
    (_m, dollar?: string, braced?: string, op?: string, arg?: string, bare?: string) => {
      if (dollar) return "$";
      const name = braced ?? bare ?? "";
      const current = vars[name];
      const set = current !== undefined;
      const nonEmpty = set && current !== "";
      switch (op) {
        case undefined:
          return current ?? "";
        case ":-":
          return nonEmpty ? current : (arg ?? "");
        case "-":
          return set ? current : (arg ?? "");
        case ":+":
          return nonEmpty ? (arg ?? "") : "";
        case "+":
          return set ? (arg ?? "") : "";
        case ":?":
        case "?":
          if (op === ":?" ? nonEmpty : set) return current ?? "";
          throw new Error(`${name}: ${arg || "is required"}`);
        default:
          throw new Error(`unsupported interpolation operator ${op}`);
      }
    },
  );
}

/** The names of the variables a text interpolates (`$$` escapes excluded). */
export function interpolatedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|([A-Za-z_][A-Za-z0-9_]*))/g)) {
    const name = m[1] ?? m[2];
    if (name) names.add(name);
  }
  return names;
}

/** `KEY=value` lines of a dotenv file (comments and blank lines skipped, no quoting used). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) throw new Error(`not a KEY=value line: ${line}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

const healthcheck = z.looseObject({ test: z.union([z.string(), z.array(z.string())]) });
const dependency = z.strictObject({
  condition: z.enum(["service_started", "service_healthy", "service_completed_successfully"]),
});

/** The parts of a compose service the tests read. Environments must be mappings, not lists. */
const composeService = z.looseObject({
  image: z.string().optional(),
  build: z.strictObject({ context: z.string(), dockerfile: z.string() }).optional(),
  command: z.union([z.string(), z.array(z.string())]).optional(),
  environment: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  ports: z.array(z.string()).optional(),
  extra_hosts: z.array(z.string()).optional(),
  stop_signal: z.string().optional(),
  depends_on: z.record(z.string(), dependency).optional(),
  healthcheck: healthcheck.optional(),
  container_name: z.string().optional(),
  shm_size: z.string().optional(),
  deploy: z.looseObject({ replicas: z.number().int().optional() }).optional(),
});
export type ComposeService = z.infer<typeof composeService>;

const composeFile = z.looseObject({ services: z.record(z.string(), composeService) });

/** docker-compose.yml, parsed (YAML merge keys allowed, as in both Compose versions). */
export function loadCompose(): z.infer<typeof composeFile> {
  return composeFile.parse(parse(readRepoFile("docker-compose.yml"), { merge: true }));
}

/** A container command as a list of words (a string command is split on spaces, as Compose does). */
export function commandWords(command: string | string[] | undefined): string[] {
  if (command === undefined) return [];
  return typeof command === "string" ? command.trim().split(/\s+/) : command;
}

/** The package script a command runs (`npm run <script>`), or undefined for any other command. */
export function npmScriptOf(words: readonly string[]): string | undefined {
  return words.length === 3 && words[0] === "npm" && words[1] === "run" ? words[2] : undefined;
}

/** A service's environment after interpolation with `vars`, values as strings. */
export function serviceEnv(
  service: ComposeService,
  vars: Readonly<Record<string, string>>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), vars)]),
  );
}
