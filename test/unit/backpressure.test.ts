import { pino } from "pino";
import { describe, expect, it, vi } from "vitest";
import { Backpressure, type BackpressureLimits } from "../../api/services/backpressure.ts";
import { XactSnapshot } from "../../shared/db/xact-snapshot.ts";

const silent = pino({ level: "silent" });

/**
 * A Backpressure whose backlog, the backlog's snapshot (`xmin:xmax:xip`, as Postgres writes it)
 * and event-loop delay the test sets; sampled by hand.
 */
function gate(limits: BackpressureLimits) {
  const state = { backlog: [0, 0], snapshot: "1:1:", loopMs: 0, failing: false, caps: [] as number[] };
  const bp = new Backpressure(
    limits,
    {
      sampleBacklog: async (cap) => {
        state.caps.push(cap);
        if (state.failing) throw new Error("database unavailable");
        return { perPartition: state.backlog, snapshot: XactSnapshot.parse(state.snapshot) };
      },
      eventLoopDelayMs: () => state.loopMs,
    },
    silent,
  );
  return { bp, state };
}

const limits = { maxPending: 100, maxInFlight: 3, maxEventLoopDelayMs: 200 };

describe("Backpressure", () => {
  it("admits while every measure is under its bound", async () => {
    const { bp, state } = gate(limits);
    state.backlog = [50, 49];
    state.loopMs = 199;
    await bp.sample();
    expect(bp.refusal()).toBeUndefined();
  });

  it("refuses at the backlog bound (sum over partitions), Retry-After 2", async () => {
    const { bp, state } = gate(limits);
    state.backlog = [60, 40];
    await bp.sample();
    expect(bp.refusal()).toMatchObject({ reason: "backlog", retryAfter: 2 });
    state.backlog = [0, 99];
    await bp.sample();
    expect(bp.refusal()).toBeUndefined();
  });

  it("counts at most the bound per sample (10,000 when the bound is off)", async () => {
    const { bp, state } = gate(limits);
    await bp.sample();
    const off = gate({ ...limits, maxPending: 0 });
    await off.bp.sample();
    expect([state.caps[0], off.state.caps[0]]).toEqual([100, 10_000]);
  });

  it("with a deep backlog counts it less often: at most 20,000 rows a second", async () => {
    vi.useFakeTimers({ toFake: ["performance"] });
    try {
      const { bp, state } = gate({ ...limits, maxPending: 40_000 });
      state.backlog = [10_000, 10_000];
      await bp.sample();
      vi.advanceTimersByTime(250);
      await bp.sample();
      vi.advanceTimersByTime(250);
      await bp.sample();
      expect(state.caps).toHaveLength(1);
      vi.advanceTimersByTime(500);
      await bp.sample();
      expect(state.caps).toHaveLength(2);
      // A small backlog is counted at every tick.
      state.backlog = [10, 0];
      vi.advanceTimersByTime(1_000);
      await bp.sample();
      vi.advanceTimersByTime(250);
      await bp.sample();
      expect(state.caps).toHaveLength(4);
    } finally {
      vi.useRealTimers();
    }
  });

  it("refuses a new accept once the in-flight bound is reached, counting accepts as they start and end", () => {
    const { bp } = gate(limits);
    const leaves = [bp.enter(), bp.enter()];
    expect(bp.refusal()).toBeUndefined();
    const third = bp.enter();
    expect(bp.refusal()).toMatchObject({ reason: "in_flight", retryAfter: 1 });
    third();
    third(); // leaving twice counts once
    expect(bp.inFlightCount()).toBe(2);
    expect(bp.refusal()).toBeUndefined();
    for (const leave of leaves) leave();
    expect(bp.inFlightCount()).toBe(0);
  });

  it("an admitted accept counts while in flight, even past a sample that began before it", async () => {
    const { bp, state } = gate(limits);
    await bp.sample();
    // A bulk of 60 is admitted; a sample answers while its insert has not committed: it sees none of them.
    bp.enter(60);
    state.snapshot = "100:100:";
    await bp.sample();
    expect(bp.refusal(40)).toBeUndefined();
    expect(bp.refusal(41)).toMatchObject({ reason: "backlog" });
  });

  it("an accept whose insert the last sample saw stops counting when it ends: never counted twice after", async () => {
    const { bp, state } = gate(limits);
    const leave = bp.enter(60);
    // Its insert (transaction 100) commits, then a sample sees its rows before the accept ends.
    state.backlog = [30, 30];
    state.snapshot = "101:101:";
    await bp.sample();
    expect(bp.refusal(1)).toMatchObject({ reason: "backlog" }); // 60 counted twice while in flight
    leave([100n]);
    expect(bp.refusal(40)).toBeUndefined();
    expect(bp.refusal(41)).toMatchObject({ reason: "backlog" });
  });

  it("an accept whose insert the last sample did not see counts until a sample that sees it: never counted by neither", async () => {
    const { bp, state } = gate(limits);
    const leave = bp.enter(60);
    // The sample's snapshot is taken before transaction 100 commits; the accept ends while it runs.
    state.snapshot = "100:100:";
    const sampling = bp.sample();
    leave([100n]);
    await sampling;
    expect(bp.refusal(41)).toMatchObject({ reason: "backlog" });
    // Still in progress in the next snapshot (xip): still not counted by the sample.
    state.snapshot = "99:102:100";
    await bp.sample();
    expect(bp.refusal(41)).toMatchObject({ reason: "backlog" });
    state.backlog = [30, 30];
    state.snapshot = "102:102:";
    await bp.sample();
    expect(bp.refusal(40)).toBeUndefined();
    expect(bp.refusal(41)).toMatchObject({ reason: "backlog" });
  });

  it("an accept that created nothing stops counting when it ends; one whose inserts are not known, at the next sample", async () => {
    const { bp, state } = gate(limits);
    await bp.sample();
    bp.enter(30)([]);
    expect(bp.refusal(100)).toBeUndefined();
    // Read back after a lost connection: no transaction id. The next sample counts what it created.
    bp.enter(30)();
    expect(bp.refusal(71)).toMatchObject({ reason: "backlog" });
    state.backlog = [30, 0];
    state.snapshot = "5:5:";
    await bp.sample();
    expect(bp.refusal(70)).toBeUndefined();
    expect(bp.refusal(71)).toMatchObject({ reason: "backlog" });
  });

  it("refuses at the event-loop delay bound", async () => {
    const { bp, state } = gate(limits);
    state.loopMs = 200;
    await bp.sample();
    expect(bp.refusal()).toMatchObject({ reason: "event_loop", retryAfter: 1 });
  });

  it("keeps the last backlog when a sample fails", async () => {
    const { bp, state } = gate(limits);
    state.backlog = [100, 0];
    await bp.sample();
    state.failing = true;
    await bp.sample();
    expect(bp.refusal()?.reason).toBe("backlog");
  });

  it("a bound of 0 is off", async () => {
    const { bp, state } = gate({ maxPending: 0, maxInFlight: 0, maxEventLoopDelayMs: 0 });
    state.backlog = [1e6, 1e6];
    state.loopMs = 1e4;
    await bp.sample();
    bp.enter();
    expect(bp.refusal()).toBeUndefined();
  });
});
