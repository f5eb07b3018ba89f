// The worker's entry point. The hook goes in before anything imports drizzle-orm; the program is
// imported after it, dynamically, since static imports are all resolved before any module runs.
import "../shared/module-resolution.ts";

await import("./run-worker.ts");
