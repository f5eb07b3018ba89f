import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { loadCompose, ROOT, readRepoFile } from "./packaging-files.ts";

/**
 * ops/prometheus/: the scrape configuration and the alert rules. Prometheus's own `promtool`
 * (Debian's `prometheus` package; .ci/run installs it) checks both and runs the rules' unit tests;
 * the rest is read here: every alert is tested firing and not firing, every metric a rule reads
 * exists in shared/metrics/, and the scrape targets are the compose services' ports.
 */

const DIR = "ops/prometheus";
const promtool = (...args: string[]) =>
  spawnSync("promtool", args, { cwd: `${ROOT}${DIR}`, encoding: "utf8", timeout: 60_000 });

const rulesFile = z.object({
  groups: z.array(
    z.object({
      rules: z.array(
        z.object({ alert: z.string().optional(), record: z.string().optional(), expr: z.string() }),
      ),
    }),
  ),
});
const rules = rulesFile.parse(parse(readRepoFile(`${DIR}/alerts.yml`))).groups.flatMap((g) => g.rules);
const alerts = rules.flatMap((r) => (r.alert ? [r.alert] : []));

describe("promtool", () => {
  // The image build has no promtool (its unit tests run with SKIP_PROMTOOL=1); CI's machine has.
  const skip = process.env.SKIP_PROMTOOL === "1";
  const run = (...args: string[]) => {
    const r = promtool(...args);
    if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(
        "promtool is not installed: `apt-get install -y --no-install-recommends prometheus` (.ci/run does), or set SKIP_PROMTOOL=1 where it cannot be",
      );
    }
    return r;
  };

  it.skipIf(skip)("check config accepts prometheus.yml (and the rule file it names)", () => {
    const r = run("check", "config", "prometheus.yml");
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it.skipIf(skip)("check rules accepts alerts.yml", () => {
    const r = run("check", "rules", "alerts.yml");
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it.skipIf(skip)("test rules: every case of alerts.test.yml passes", () => {
    const r = run("test", "rules", "alerts.test.yml");
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("SUCCESS");
  });
});

describe("alerts.yml", () => {
  const tests = z
    .object({
      tests: z.array(
        z.object({
          alert_rule_test: z.array(z.object({ alertname: z.string(), exp_alerts: z.array(z.unknown()) })),
        }),
      ),
    })
    .parse(parse(readRepoFile(`${DIR}/alerts.test.yml`)))
    .tests.flatMap((t) => t.alert_rule_test);

  it("has the alerts a payments team pages on", () => {
    expect(alerts).toEqual(
      expect.arrayContaining([
        "BillingApiDown",
        "BillingApiNotReady",
        "BillingBacklogGrowing",
        "BillingSettlementSlow",
        "BillingOperationsInternalError",
        "BillingPartitionsNotHeld",
        "BillingWebhookAttemptsFailing",
        "BillingWebhookDeliveriesFailed",
      ]),
    );
  });

  it.each(alerts)("%s is tested firing and not firing", (alert) => {
    const cases = tests.filter((t) => t.alertname === alert);
    expect(
      cases.some((t) => t.exp_alerts.length > 0),
      "a case where it fires",
    ).toBe(true);
    expect(
      cases.some((t) => t.exp_alerts.length === 0),
      "a case where it does not",
    ).toBe(true);
  });

  it("reads only metrics the processes export (shared/metrics/), and Prometheus's up", () => {
    const exported = new Set(
      readdirSync(`${ROOT}shared/metrics`).flatMap((f) =>
        [...readRepoFile(`shared/metrics/${f}`).matchAll(/name: "(billing_\w+)"/g)].map((m) => m[1]),
      ),
    );
    const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
    for (const { expr } of rules) {
      for (const [name = ""] of expr.matchAll(/\b[a-z_:][a-z0-9_:]*(?=[{[\s)]|$)/g)) {
        if (name.startsWith("billing:")) expect(recorded, expr).toContain(name);
        else if (name.startsWith("billing_")) expect(exported, expr).toContain(name.replace(/_bucket$/, ""));
      }
    }
    expect(exported.size).toBeGreaterThan(10);
  });
});

describe("prometheus.yml and docker-compose.yml", () => {
  const config = z
    .object({
      rule_files: z.array(z.string()),
      scrape_configs: z.array(
        z.looseObject({
          job_name: z.string(),
          static_configs: z.array(z.object({ targets: z.array(z.string()) })).optional(),
          dns_sd_configs: z.array(z.object({ names: z.array(z.string()), port: z.number() })).optional(),
        }),
      ),
    })
    .parse(parse(readRepoFile(`${DIR}/prometheus.yml`)));
  const services = loadCompose().services;
  const job = (name: string) => config.scrape_configs.find((c) => c.job_name === name);

  it("scrapes the api at its PORT and every worker replica at its METRICS_PORT", () => {
    expect(job("billing-api")?.static_configs?.[0]?.targets).toEqual([
      `api:${services.api?.environment?.PORT}`,
    ]);
    expect(job("billing-worker")?.dns_sd_configs).toEqual([
      expect.objectContaining({
        names: ["worker"],
        port: Number(services.worker?.environment?.METRICS_PORT),
      }),
    ]);
    expect(config.rule_files).toEqual(["alerts.yml"]);
  });

  it("the rules match the jobs it defines", () => {
    const jobs = [...readRepoFile(`${DIR}/alerts.yml`).matchAll(/job="([\w-]+)"/g)].map((m) => m[1]);
    for (const j of jobs) expect(config.scrape_configs.map((c) => c.job_name)).toContain(j);
  });

  it("compose runs Prometheus only under the observability profile, with this directory mounted", () => {
    const prometheus = services.prometheus as
      | { profiles?: string[]; image?: string; volumes?: string[] }
      | undefined;
    expect(prometheus?.profiles).toEqual(["observability"]);
    expect(prometheus?.image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    expect(prometheus?.volumes).toContain(`./${DIR}:/etc/prometheus:ro`);
    // Every other service runs without a profile: plain `docker compose up` is the whole system.
    for (const [name, s] of Object.entries(services)) {
      if (name !== "prometheus") expect((s as { profiles?: unknown }).profiles, name).toBeUndefined();
    }
  });
});
