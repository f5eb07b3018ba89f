import { existsSync } from "node:fs";

const LIBFAKETIME = [
  "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
  "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
].find((p) => existsSync(p));

/**
 * Environment settings that run a child process under libfaketime (Debian's `faketime`), its
 * wall clock moved by `offset` ("+6s", "-1h"): a host whose clock disagrees with Postgres's.
 * Throws when the library is missing, rather than run the test on one clock.
 */
export function fakeClock(offset: string): Record<string, string> {
  if (!LIBFAKETIME) throw new Error("libfaketime is missing: apt-get install faketime");
  return { LD_PRELOAD: LIBFAKETIME, FAKETIME: offset };
}
