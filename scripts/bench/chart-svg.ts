/** A small hand-written SVG line chart: no dependency, two panels sharing the time axis. */

export interface Series {
  label: string;
  color: string;
  points: { x: number; y: number }[];
}

interface Panel {
  title: string;
  unit: string;
  series: Series[];
}

const W = 820;
const PANEL_H = 200;
const M = { left: 70, right: 20, top: 28, bottom: 30 };

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A "nice" upper bound and step for an axis that must reach `max`. */
function niceScale(max: number): { top: number; step: number } {
  if (max <= 0) return { top: 1, step: 0.25 };
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  return { top: Math.ceil(max / step) * step, step };
}

const fmt = (v: number) =>
  v >= 10_000
    ? `${Math.round(v / 1000)}k`
    : v >= 1000
      ? `${(v / 1000).toFixed(1)}k`
      : String(Math.round(v * 10) / 10);

function panel(p: Panel, top: number, xMax: number): string {
  const h = PANEL_H - M.top - M.bottom;
  const w = W - M.left - M.right;
  const yMax = Math.max(0, ...p.series.flatMap((s) => s.points.map((pt) => pt.y)));
  const ys = niceScale(yMax);
  const xs = niceScale(xMax);
  const X = (x: number) => M.left + (x / xs.top) * w;
  const Y = (y: number) => top + M.top + h - (y / ys.top) * h;
  const out: string[] = [];
  out.push(`<text x="${M.left}" y="${top + 16}" font-size="13" font-weight="bold">${esc(p.title)}</text>`);
  for (let y = 0; y <= ys.top + 1e-9; y += ys.step) {
    out.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${Y(y)}" y2="${Y(y)}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${Y(y) + 4}" font-size="10" text-anchor="end">${fmt(y)}</text>`,
    );
  }
  for (let x = 0; x <= xs.top + 1e-9; x += xs.step) {
    out.push(
      `<line x1="${X(x)}" x2="${X(x)}" y1="${top + M.top}" y2="${top + M.top + h}" stroke="#eee"/>`,
      `<text x="${X(x)}" y="${top + M.top + h + 14}" font-size="10" text-anchor="middle">${fmt(x)} s</text>`,
    );
  }
  out.push(
    `<text x="14" y="${top + M.top + h / 2}" font-size="10" transform="rotate(-90 14 ${top + M.top + h / 2})" text-anchor="middle">${esc(p.unit)}</text>`,
  );
  p.series.forEach((s, i) => {
    if (s.points.length > 0) {
      const d = s.points.map((pt) => `${X(pt.x).toFixed(1)},${Y(pt.y).toFixed(1)}`).join(" ");
      out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.6" points="${d}"/>`);
    }
    const lx = W - M.right - 150;
    const ly = top + 14 + i * 13;
    out.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/>`,
      `<text x="${lx + 22}" y="${ly}" font-size="10">${esc(s.label)}</text>`,
    );
  });
  return out.join("\n");
}

/** Panels stacked vertically over one time axis (seconds from the load's start). */
export function lineChart(title: string, panels: Panel[]): string {
  const xMax = Math.max(1, ...panels.flatMap((p) => p.series.flatMap((s) => s.points.map((pt) => pt.x))));
  const height = 30 + panels.length * PANEL_H;
  const body = panels.map((p, i) => panel(p, 30 + i * PANEL_H, xMax)).join("\n");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="20" font-size="15" text-anchor="middle" font-weight="bold">${esc(title)}</text>
${body}
</svg>
`;
}
