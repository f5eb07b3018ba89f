import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const FLOOD = new URL("../helpers/log-flood.ts", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "logger-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Report {
  logged: number;
  dropped: number;
}

/** Runs log-flood.ts with `stdout` as its stdout; resolves with its report and the child. */
function flood(
  options: { lines: number; perTurn: number; maxBufferBytes: number },
  stdout: number | "pipe",
): { child: ChildProcess; report: Promise<Report>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [FLOOD, JSON.stringify(options)], {
    stdio: ["ignore", stdout, "pipe"],
  });
  let err = "";
  const report = new Promise<Report>((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      err += chunk.toString();
      const line = err.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve(JSON.parse(line) as Report);
    });
    child.once("exit", () => reject(new Error(`log-flood exited without a report: ${err}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, report, exited };
}

describe("the logger's stdout", () => {
  it("takes each turn's lines, however many, in the turn's write: nothing waits to be dropped", async () => {
    // 400 lines (about 60 KiB) a turn, 250 turns. One write per turn at 16 KiB, the library's
    // default, left about 45 KiB a turn waiting: past 8 MiB before the end, so lines were dropped.
    // 1 MiB writes leave room for a write to the file to lag a hundred turns behind.
    const file = join(dir, "stdout.log");
    const fd = openSync(file, "w");
    const run = flood({ lines: 100_000, perTurn: 400, maxBufferBytes: 8 * 1024 * 1024 }, fd);
    closeSync(fd);
    const report = await run.report;
    expect(await run.exited).toBe(0);
    expect(report).toEqual({ logged: 100_000, dropped: 0 });
    const written = readFileSync(file, "utf8").split("\n").filter(Boolean);
    expect(written).toHaveLength(100_000);
    expect(written.map((l) => (JSON.parse(l) as { n: number }).n)).toEqual(
      Array.from({ length: 100_000 }, (_, i) => i),
    );
  });

  it("drops and counts the lines a stopped reader does not take, beyond its bound, and keeps the rest", async () => {
    // Stdout is not read until the report: the pipe fills, 1 MiB waits, the rest is dropped.
    const run = flood({ lines: 30_000, perTurn: 500, maxBufferBytes: 1024 * 1024 }, "pipe");
    const report = await run.report;
    let out = "";
    run.child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    expect(await run.exited).toBe(0);
    expect(report.logged).toBe(30_000);
    expect(report.dropped).toBeGreaterThan(0);
    // Every line is either written, whole, or counted as dropped.
    const lines = out.split("\n").filter(Boolean);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ msg: "request" });
    expect(lines.length + report.dropped).toBe(30_000);
  });
});
