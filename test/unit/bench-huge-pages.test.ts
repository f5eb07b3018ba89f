import { describe, expect, it } from "vitest";
import { hugePagesOf } from "../../scripts/bench/bench-processes.ts";

describe("the bench's reading of the host's huge pages", () => {
  it("reads HugePages_Total and HugePages_Free of /proc/meminfo", () => {
    const meminfo = [
      "MemTotal:       24634292 kB",
      "HugePages_Total:     600",
      "HugePages_Free:      445",
      "HugePages_Rsvd:       85",
      "Hugepagesize:       2048 kB",
    ].join("\n");
    expect(hugePagesOf(meminfo)).toEqual({ total: 600, free: 445 });
  });

  it("gives 0 where the kernel reports none", () => {
    expect(hugePagesOf("MemTotal:       24634292 kB\n")).toEqual({ total: 0, free: 0 });
  });
});
