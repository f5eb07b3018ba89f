import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../shared/config.ts";
import {
  commandWords,
  interpolatedNames,
  loadCompose,
  npmScriptOf,
  packageScripts,
  parseEnvFile,
  ROOT,
  readRepoFile,
  requiredKeys,
  SCRIPT_SCHEMAS,
  serviceEnv,
} from "./packaging-files.ts";

/**
 * docker-compose.yml, checked without a Docker engine: Compose v1's own validator (Debian's
 * `docker-compose`, which validates offline), then the file against the config schemas of the
 * processes it starts and against package.json. No network I/O.
 */

const compose = loadCompose();
const scripts = packageScripts();
const envExample = parseEnvFile(readRepoFile(".env.example"));

/** The two ways a newcomer runs it: bare `docker compose up`, or after `cp .env.example .env`. */
const ENVIRONMENTS: [string, Record<string, string>][] = [
  ["no .env", {}],
  [".env from .env.example", envExample],
];

/** Our own services (built from this repo), each with the package script its container runs. */
const appServices = Object.entries(compose.services)
  .filter(([, s]) => s.build !== undefined)
  .map(([name, s]) => ({ name, service: s, script: npmScriptOf(commandWords(s.command)) }));

const tmp = mkdtempSync(join(tmpdir(), "compose-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs a Compose CLI on the file with exactly `vars` as its environment (the shell's is not passed). */
function composeConfig(cli: string[], vars: Record<string, string>) {
  const envFile = join(tmp, `env-${Math.random().toString(36).slice(2)}`);
  writeFileSync(
    envFile,
    Object.entries(vars)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(""),
  );
  const [bin = "", ...pre] = cli;
  return spawnSync(bin, [...pre, "--env-file", envFile, "-f", "docker-compose.yml", "config", "-q"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "" },
    encoding: "utf8",
    timeout: 30_000,
  });
}

describe("docker-compose.yml: Compose's own validation", () => {
  const skipV1 = process.env.SKIP_COMPOSE_CLI === "1";

  it.skipIf(skipV1).each(ENVIRONMENTS)("docker-compose (v1) config -q accepts it with %s", (_, vars) => {
    const r = composeConfig(["docker-compose"], vars);
    if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(
        "docker-compose is not installed: `apt-get install -y --no-install-recommends docker-compose` " +
          "(Debian's Compose v1 validates offline), or set SKIP_COMPOSE_CLI=1 where it cannot be installed",
      );
    }
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  // Compose v2 is not packaged by Debian; where the plugin exists (a developer's machine), it checks too.
  const v2 = spawnSync("docker", ["compose", "version"], { encoding: "utf8", timeout: 10_000 });
  it.skipIf(v2.status !== 0).each(ENVIRONMENTS)(
    "docker compose (v2) config -q accepts it with %s",
    (_, vars) => {
      const r = composeConfig(["docker", "compose"], vars);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    },
  );
});

describe("docker-compose.yml: every process gets a configuration it accepts", () => {
  it("builds and runs the migration, the api and the worker", () => {
    expect(appServices.map((s) => s.script).sort()).toEqual(["db:migrate", "start:api", "start:worker"]);
  });

  it.each(appServices)("$name runs `npm run <a script of package.json>` whose process has a schema", (s) => {
    expect(s.script, `${s.name}'s command must be npm run <script>`).toBeDefined();
    expect(scripts).toHaveProperty([s.script ?? ""]);
    expect(SCRIPT_SCHEMAS).toHaveProperty([s.script ?? ""]);
  });

  for (const [label, vars] of ENVIRONMENTS) {
    it.each(appServices)(`$name: every required variable is set and parses (${label})`, (s) => {
      const schema = SCRIPT_SCHEMAS[s.script ?? ""];
      if (!schema) throw new Error(`no config schema for ${s.name}`);
      const env = serviceEnv(s.service, vars);
      const required = requiredKeys(schema);
      expect(required).toContain("DATABASE_URL"); // the derivation itself works
      for (const key of required) expect(env[key], `${s.name}: ${key} must be set`).toMatch(/\S/);
      const parsed = parseConfig(schema, env);
      expect(parsed.ok ? [] : parsed.problems).toEqual([]);
    });
  }

  it.each(appServices)("$name sets no variable its schema does not know (a typo would be ignored)", (s) => {
    const schema = SCRIPT_SCHEMAS[s.script ?? ""];
    if (!schema) throw new Error(`no config schema for ${s.name}`);
    const unknown = Object.keys(s.service.environment ?? {}).filter((k) => !(k in schema.shape));
    expect(unknown).toEqual([]);
  });

  it.each(ENVIRONMENTS)("all processes agree on the deployment-wide settings (%s)", (_, vars) => {
    for (const key of ["DATABASE_URL", "REDIS_URL", "QUEUE_PREFIX", "PARTITIONS"]) {
      const values = new Set(
        appServices
          .filter((s) => s.service.environment?.[key] !== undefined)
          .map((s) => serviceEnv(s.service, vars)[key]),
      );
      expect(values.size, `${key} differs between services`).toBe(1);
    }
  });

  it(".env.example lists exactly the variables docker-compose.yml reads", () => {
    const used = [...interpolatedNames(readRepoFile("docker-compose.yml"))].sort();
    expect(Object.keys(envExample).sort()).toEqual(used);
  });
});

describe("docker-compose.yml: topology", () => {
  const s = compose.services;
  const api = s.api;
  const worker = s.worker;

  it("the api and the workers start after the migration completed and the stores are healthy", () => {
    for (const svc of [api, worker]) {
      expect(svc?.depends_on).toEqual({
        postgres: { condition: "service_healthy" },
        redis: { condition: "service_healthy" },
        migrate: { condition: "service_completed_successfully" },
      });
    }
    expect(s.migrate?.depends_on).toEqual({ postgres: { condition: "service_healthy" } });
    expect(s.migrate?.restart).toBe("no");
  });

  it("workers scale: two replicas by default, no fixed name, no published port", () => {
    expect(worker?.deploy?.replicas).toBe(2);
    expect(worker?.container_name).toBeUndefined();
    expect(worker?.ports).toBeUndefined();
    for (const svc of Object.values(s)) expect(svc.container_name).toBeUndefined();
  });

  it("the api is on port 3000 (its PORT) and Adminer on 8080, on the loopback only", () => {
    expect(api?.ports).toEqual(["127.0.0.1:3000:3000"]);
    expect(String(api?.environment?.PORT)).toBe("3000");
    expect(s.adminer?.ports).toEqual(["127.0.0.1:8080:8080"]);
  });

  it("the api and the workers both resolve host.docker.internal (webhook receivers on the host)", () => {
    // The api checks an endpoint's host at creation, the workers at delivery: both need the name.
    for (const svc of [api, worker]) expect(svc?.extra_hosts).toContain("host.docker.internal:host-gateway");
  });

  it("Adminer is stopped with SIGINT (PHP's built-in server as PID 1 ignores SIGTERM)", () => {
    expect(s.adminer?.stop_signal).toBe("SIGINT");
  });

  it("Postgres and Redis run under Docker's init, so that a timed-out health check's orphans are not theirs", () => {
    // The postmaster as PID 1 takes an orphan's exit 2 for a crashed backend and resets every
    // connection (scripts/compose-check.sh reproduces it).
    expect(s.postgres?.init).toBe(true);
    expect(s.redis?.init).toBe(true);
  });

  it("Redis keeps an AOF fsynced every second and never evicts (BullMQ)", () => {
    const words = commandWords(s.redis?.command).join(" ");
    expect(words).toContain("--appendonly yes");
    expect(words).toContain("--appendfsync everysec");
    expect(words).toContain("--maxmemory-policy noeviction");
  });

  it("Postgres takes shared_buffers from POSTGRES_SHARED_BUFFERS (128MB unset) and has room in /dev/shm", () => {
    expect(commandWords(s.postgres?.command)).toEqual([
      "postgres",
      "-c",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's interpolation, not JavaScript's.
      "shared_buffers=${POSTGRES_SHARED_BUFFERS:-128MB}",
    ]);
    // Docker's default is 64 MB; a parallel hash join of the ledger audit can need more.
    expect(s.postgres?.shm_size).toBe("256mb");
  });

  it("Postgres, Redis, the api and the workers have health checks (`up --wait` needs them)", () => {
    expect(commandWords(s.postgres?.healthcheck?.test).join(" ")).toContain("pg_isready");
    expect(commandWords(s.redis?.healthcheck?.test).join(" ")).toContain("redis-cli ping");
    // Each process's /healthz, on the port it is told to listen on.
    expect(commandWords(api?.healthcheck?.test).join(" ")).toContain(
      `127.0.0.1:${api?.environment?.PORT}/healthz`,
    );
    expect(commandWords(worker?.healthcheck?.test).join(" ")).toContain(
      `127.0.0.1:${worker?.environment?.METRICS_PORT}/healthz`,
    );
    expect(s.postgres?.image).toMatch(/^postgres:\d+/);
    expect(s.redis?.image).toMatch(/^redis:7/);
  });
});

describe("the README's compose instructions are what the CI stage runs", () => {
  const readme = readRepoFile("README.md");
  const stage = readRepoFile("scripts/compose-check.sh");
  const commandsOf = (block: string) =>
    block
      .split("\n")
      .map((l) => l.replace(/\s+#.*$/, "").trim())
      .filter((l) => l !== "");

  it("the README still opens with `docker compose up`", () => {
    const first = readme.match(/```sh\n([\s\S]*?)```/)?.[1] ?? "";
    expect(commandsOf(first)[0]).toBe("docker compose up");
  });

  it('the "Docker Compose" section lists exactly the Compose commands scripts/compose-check.sh runs', () => {
    const section = readme.split(/^## /m).find((s) => s.startsWith("Docker Compose\n")) ?? "";
    const listed = commandsOf(section.match(/```sh\n([\s\S]*?)```/)?.[1] ?? "");
    // The stage runs every command that changes the stack through its `quietly` helper.
    const run = [...stage.matchAll(/^\s*quietly (?:env )?(.+?)(?:\s+\|\|.*|\s+#.*)?$/gm)].map((m) => m[1]);
    expect(listed.length).toBeGreaterThan(0);
    expect([...new Set(listed)].sort()).toEqual([...new Set(run)].sort());
  });

  it("the stage changes the stack only through that helper (so the list above is complete)", () => {
    const direct = stage
      .split("\n")
      .filter((l) =>
        /^\s*(?:\w+=\S+ )*docker compose (?:up|down|restart|start|stop|kill|rm|scale)\b/.test(l),
      );
    expect(direct).toEqual([]);
  });
});
