import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  commandWords,
  loadCompose,
  npmScriptOf,
  packageScripts,
  readRepoFile,
  repoFileExists,
} from "./packaging-files.ts";

/**
 * Dockerfile.api and Dockerfile.worker, read as text (no Docker engine here): what the build
 * stage copies and runs, what the runtime stage holds, and that what the containers run is in it.
 */

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions grouped by stage; continuation lines joined, comments dropped. */
function parseDockerfile(text: string): Stage[] {
  const logical = text
    .split("\n")
    .filter((l) => !l.trimStart().startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const stages: Stage[] = [];
  for (const line of logical) {
    const [keyword = "", ...rest] = line.split(/\s+/);
    const args = rest.join(" ");
    if (keyword.toUpperCase() === "FROM") {
      const [from = "", as, name] = rest;
      stages.push({ from, name: as?.toUpperCase() === "AS" ? name : undefined, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${keyword} before FROM`);
      stage.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

/** A COPY's flags, sources and destination (shell form). */
function parseCopy(args: string): { from: string | undefined; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith("--"));
  const paths = words.filter((w) => !w.startsWith("--"));
  const dest = paths.pop() ?? "";
  const from = flags.find((f) => f.startsWith("--from="))?.slice("--from=".length);
  return { from, sources: paths, dest };
}

const normalize = (p: string): string => p.replace(/^\.\//, "").replace(/\/$/, "");
const runs = (stage: Stage): string[] =>
  stage.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args);
const copies = (stage: Stage) =>
  stage.instructions.filter((i) => i.keyword === "COPY").map((i) => parseCopy(i.args));

/**
 * What `npm run build` reads: each `tsc -p <config>` of the script, the configs it extends, the
 * folders it includes (relative to the config's own folder), and the files it runs with node.
 */
function buildInputs(): string[] {
  const inputs = ["package.json", "package-lock.json"];
  const tsconfig = z.object({ extends: z.string().optional(), include: z.array(z.string()).optional() });
  const build = scripts.build ?? "";
  for (const [, config] of build.matchAll(/\btsc -p (\S+)/g)) {
    let file: string | undefined = normalize(config ?? "");
    let include: string[] | undefined;
    const folderOf = (f: string): string => (f.includes("/") ? f.slice(0, f.lastIndexOf("/") + 1) : "");
    const base = folderOf(file);
    while (file) {
      inputs.push(file);
      const json = tsconfig.parse(JSON.parse(readRepoFile(file)));
      include ??= json.include?.map((i) => `${base}${normalize(i)}`);
      // `sdk/../tsconfig.base.json` → `tsconfig.base.json`
      const next: string | undefined =
        json.extends === undefined ? undefined : `${folderOf(file)}${normalize(json.extends)}`;
      file = next?.replace(/^[^/]+\/\.\.\//, "");
    }
    inputs.push(...(include ?? []));
  }
  return [...new Set([...inputs, ...nodeFilesOf(build)])];
}

/** The files a package script runs with `node <file>`. */
function nodeFilesOf(script: string): string[] {
  return script
    .split(/&&|\|\||;/)
    .map((part) => part.trim().split(/\s+/))
    .filter((words) => words[0] === "node")
    .map((words) => words.slice(1).find((w) => !w.startsWith("-")) ?? "");
}

/** Docker's .dockerignore semantics: the last matching pattern (or a match of a parent folder) wins. */
function dockerignoreAllows(patterns: string[], path: string): boolean {
  const glob = (p: string) => {
    const part = (x: string) =>
      x
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, "[^/]*")
        .replace(/\?/g, "[^/]");
    return new RegExp(`^${p.split("**").map(part).join(".*")}$`);
  };
  const prefixes = path.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/"));
  let allowed = true;
  for (const raw of patterns) {
    const negated = raw.startsWith("!");
    const re = glob(normalize(negated ? raw.slice(1) : raw));
    if (prefixes.some((p) => re.test(p))) allowed = negated;
  }
  return allowed;
}

const scripts = packageScripts();
const IMAGES = [
  { file: "Dockerfile.api", script: "start:api" },
  { file: "Dockerfile.worker", script: "start:worker" },
] as const;
const RUNTIME_FILES = ["package.json", "node_modules", "dist", "drizzle", "scripts/require-node.mjs"];

describe.each(IMAGES)("$file", ({ file, script }) => {
  const stages = parseDockerfile(readRepoFile(file));
  const build = stages.find((s) => s.name === "build");
  const runtime = stages.at(-1);
  if (!build || !runtime || build === runtime)
    throw new Error(`${file}: needs a build stage and a runtime stage`);

  it("is built on the official Node 24 image in every stage", () => {
    for (const stage of stages) expect(stage.from).toMatch(/^node:24-bookworm-slim$/);
  });

  it("the build stage copies everything `npm run build` reads, and the migrations", () => {
    const copied = copies(build).flatMap((c) => c.sources.map(normalize));
    const has = (input: string) => copied.some((c) => input === c || input.startsWith(`${c}/`));
    expect(buildInputs()).toEqual(expect.arrayContaining(["sdk/tsconfig.json", "sdk/src"]));
    for (const input of [...buildInputs(), "drizzle"]) expect(has(input), input).toBe(true);
  });

  it("the build stage installs, builds, runs the unit tests, then drops dev dependencies", () => {
    const commands = runs(build);
    const at = (re: RegExp) => commands.findIndex((c) => re.test(c));
    const order = [/^npm ci\b/, /\bnpm run build$/, /\bnpm run test:unit$/, /^npm prune --omit=dev\b/].map(
      at,
    );
    expect(
      order.every((i) => i >= 0),
      commands.join(" | "),
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it("the runtime stage holds only the compiled code, migrations and production dependencies", () => {
    const c = copies(runtime);
    expect(
      c.every((x) => x.from === "build"),
      "runtime COPYs come from the build stage only",
    ).toBe(true);
    expect(c.flatMap((x) => x.sources.map((s) => normalize(s.replace(/^\/app\//, "")))).sort()).toEqual(
      [...RUNTIME_FILES].sort(),
    );
    expect(runs(runtime)).toEqual([]);
  });

  it("runs as a non-root user", () => {
    const keywords = runtime.instructions.map((i) => i.keyword);
    const user = runtime.instructions.filter((i) => i.keyword === "USER").at(-1)?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(keywords.lastIndexOf("USER")).toBeLessThan(keywords.indexOf("CMD"));
  });

  it(`its CMD is \`npm run ${script}\`, run by bash so that node gets the SIGTERM`, () => {
    const cmd = runtime.instructions.filter((i) => i.keyword === "CMD").at(-1)?.args ?? "";
    expect(npmScriptOf(z.array(z.string()).parse(JSON.parse(cmd)))).toBe(script);
    expect(scripts).toHaveProperty([script]);
    const env = runtime.instructions
      .filter((i) => i.keyword === "ENV")
      .map((i) => i.args)
      .join(" ");
    expect(env).toContain("npm_config_script_shell=/bin/bash");
  });

  it("a health check on the process's /healthz, at the port it listens on (`up --wait` needs one)", () => {
    const check = runtime.instructions.find((i) => i.keyword === "HEALTHCHECK")?.args;
    expect(check).toMatch(/\bCMD\b.*\/healthz/);
    // The api serves it on PORT (default 3000), the worker on METRICS_PORT (default 9464).
    const port = script === "start:api" ? "PORT||3000" : "METRICS_PORT||9464";
    expect(check).toContain(`process.env.${port}`);
  });

  it(".dockerignore lets every copied path through and keeps secrets and host builds out", () => {
    const patterns = readRepoFile(".dockerignore")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    for (const c of copies(build).filter((x) => x.from === undefined)) {
      for (const source of c.sources)
        expect(dockerignoreAllows(patterns, normalize(source)), source).toBe(true);
    }
    for (const kept of [".env", "node_modules", "dist", ".git", "bench-results"]) {
      expect(dockerignoreAllows(patterns, kept), kept).toBe(false);
    }
  });
});

describe("the images together", () => {
  it("have the same build stage, so either one's tests cover both", () => {
    const [api, worker] = IMAGES.map(({ file }) =>
      parseDockerfile(readRepoFile(file)).find((s) => s.name === "build"),
    );
    expect(worker?.instructions).toEqual(api?.instructions);
  });

  it("every script a container runs (CMD or compose command) only runs files its image has", () => {
    const runnable = (f: string) => RUNTIME_FILES.some((r) => f === r || f.startsWith(`${r}/`));
    const byImage = new Map<string, string[]>(IMAGES.map((i) => [i.file, [i.script]]));
    for (const service of Object.values(loadCompose().services)) {
      const name = npmScriptOf(commandWords(service.command));
      if (service.build && name) byImage.get(service.build.dockerfile)?.push(name);
    }
    expect([...byImage.keys()].sort()).toEqual(IMAGES.map((i) => i.file).sort());
    for (const [image, names] of byImage) {
      for (const name of names) {
        const body = scripts[name];
        expect(body, `${image}: npm run ${name}`).toBeDefined();
        for (const f of nodeFilesOf(body ?? "")) {
          expect(runnable(f), `${image}: ${name} runs ${f}, which the image lacks`).toBe(true);
          // dist/x/y.js is compiled from x/y.ts
          const source = f.startsWith("dist/") ? f.slice("dist/".length).replace(/\.js$/, ".ts") : f;
          expect(repoFileExists(source), `${name} runs ${f} but ${source} does not exist`).toBe(true);
        }
      }
    }
  });
});
