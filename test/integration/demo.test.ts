import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, startSystem, type TestSystem } from "../helpers/system.ts";
import { freePort } from "../helpers/throwaway.ts";

/**
 * `npm run demo` (scripts/demo.ts, on the TypeScript client) end to end against a real system,
 * webhooks required, as CI's compose stage runs it against docker compose; and its message when
 * the api is not there.
 */

let system: TestSystem;

beforeAll(async () => {
  const allowPrivate = { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" };
  system = await startSystem({ partitions: 2, apiSettings: allowPrivate, workerSettings: allowPrivate });
  await system.spawnWorker();
});
afterAll(async () => system?.stop());

/** Runs the demo with exactly `env` (and PATH); resolves with its exit code and output. */
function demo(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["scripts/demo.ts"], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.on("exit", (code) => resolve({ code, out }));
  });
}

describe("npm run demo", () => {
  it("tells the whole story through the client, webhooks included, and exits 0", async () => {
    const { code, out } = await demo({
      API_URL: system.baseUrl,
      ADMIN_TOKEN,
      DEMO_REQUIRE_WEBHOOKS: "true",
    });
    expect(out, out).toContain(
      "demo: done. Money moved exactly once; the refused transfer moved none; the hold moved what was captured; the refund sent part of it back.",
    );
    expect(code).toBe(0);
    expect(out).toContain("Idempotent-Replayed: true, same operation");
    expect(out).toMatch(/then failed \(insufficient_funds\)/);
    expect(out).toMatch(/the hold is captured, 15\.00 USD moved, the rest released/);
    expect(out).toMatch(/succeeded; the capture's refundedAmount is 5\.00 USD/);
    // The balances table: alice 100.00 - 25.50 - 15.00 + 5.00, bob 25.50 + 15.00 - 5.00.
    expect(out).toMatch(/alice .* 64\.50 USD/);
    expect(out).toMatch(/bob .* 35\.50 USD/);
    // Six deliveries (the top-up, the transfer, the refused transfer, the hold, the capture, the refund), each verified.
    expect(out.match(/ {2}verified {2}/g)).toHaveLength(6);
  });

  it("without a reachable api, says how to start one and exits 1", async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const { code, out } = await demo({ API_URL: nobody, ADMIN_TOKEN });
    expect(code).toBe(1);
    expect(out).toContain(`cannot reach the api at ${nobody}`);
    expect(out).toContain("ECONNREFUSED");
    expect(out).toContain("docker compose up, or npm run up");
  });
});
