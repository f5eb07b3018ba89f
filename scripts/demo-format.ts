/** Plain-text presentation for `npm run demo`. */

/** Minor units as the currency's major units, exactly (string arithmetic, no float). */
export function money(minor: number, currency: string): string {
  const digits =
    new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  const abs = BigInt(Math.abs(minor));
  const scale = 10n ** BigInt(digits);
  const whole = (abs / scale).toLocaleString("en");
  const fraction = digits > 0 ? `.${(abs % scale).toString().padStart(digits, "0")}` : "";
  return `${minor < 0 ? "-" : ""}${whole}${fraction} ${currency}`;
}

/** A plain-text table: left-aligned text, right-aligned columns named in `right`. */
export function table(rows: Record<string, string>[], right: string[] = []): string {
  const first = rows[0];
  if (!first) return "  (none)";
  const columns = Object.keys(first);
  const width = (c: string) => Math.max(c.length, ...rows.map((r) => (r[c] ?? "").length));
  const cell = (c: string, v: string) => (right.includes(c) ? v.padStart(width(c)) : v.padEnd(width(c)));
  const line = (r: Record<string, string>) => `  ${columns.map((c) => cell(c, r[c] ?? "")).join("  ")}`;
  const header = Object.fromEntries(columns.map((c) => [c, c]));
  const rule = Object.fromEntries(columns.map((c) => [c, "-".repeat(width(c))]));
  return [line(header), line(rule), ...rows.map(line)].map((l) => l.trimEnd()).join("\n");
}
