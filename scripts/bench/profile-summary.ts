import { readFileSync } from "node:fs";
import { basename } from "node:path";

/**
 * `node scripts/bench/profile-summary.ts <file.cpuprofile> [top]`: where a V8 CPU profile (from
 * `npm run bench -- --cpu-prof`) spent its time, by self time: the top functions, and the
 * totals per package (node_modules/<name>), per file of ours, and Node internals; then the
 * inclusive time of our own functions (api/, worker/, shared/), callees included.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file) throw new Error("usage: profile-summary.ts <file.cpuprofile> [top]");
const top = Number(process.argv[3] ?? 25);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

/** node_modules/<pkg>, our file, node:internal, or (program)/(idle)/(garbage collector). */
function owner(url: string, fn: string): string {
  if (!url) return fn.startsWith("(") ? fn : "(native)";
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm?.[1]) return nm[1];
  if (url.startsWith("node:")) return "node:internal";
  const ours = /\/(api|worker|shared|scripts)\/.*$/.exec(url);
  return ours ? ours[0].slice(1) : url;
}

const fnTotals = new Map<string, number>();
const ownerTotals = new Map<string, number>();
let total = 0;
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  if (!n) continue;
  total += us;
  const { functionName, url, lineNumber } = n.callFrame;
  const key = `${functionName || "(anonymous)"} ${url ? `${basename(url)}:${lineNumber + 1}` : ""}`.trim();
  fnTotals.set(key, (fnTotals.get(key) ?? 0) + us);
  const o = owner(url, functionName);
  ownerTotals.set(o, (ownerTotals.get(o) ?? 0) + us);
}

const pct = (us: number) => `${((us / Math.max(1, total)) * 100).toFixed(1).padStart(5)}%`;
const busy = total - (ownerTotals.get("(idle)") ?? 0);
console.log(
  `${basename(file)}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s not idle`,
);
console.log("\nby owner (self time):");
for (const [k, v] of [...ownerTotals].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`  ${pct(v)}  ${k}`);
console.log("\nby function (self time):");
for (const [k, v] of [...fnTotals].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`  ${pct(v)}  ${k}`);

/** Inclusive time: each sample counts once for every distinct function of ours on its stack. */
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur);
    if (!n) break;
    const { functionName, url, lineNumber } = n.callFrame;
    if (!/\/(api|worker|shared)\//.test(url)) continue;
    const key = `${functionName || "(anonymous)"} ${basename(url)}:${lineNumber + 1}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}
console.log("\nour functions, inclusive (share of time not idle):");
for (const [k, v] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`  ${((v / Math.max(1, busy)) * 100).toFixed(1).padStart(5)}%  ${k}`);
}
