import { FRONTIER_POLICIES, type FrontierPolicy, paretoFrontier, type SweepPoint, type WaitAxis } from './frontier.js';

/** One panel of the frontier plot: a trace, every setting run on it, and the recommended default. */
export interface FrontierPanel {
  title: string;
  points: readonly SweepPoint[];
  recommended: SweepPoint;
}

const COLOUR: Record<FrontierPolicy, string> = {
  'seed-greedy': '#d62728',
  'lichess-wave': '#1f77b4',
  ours: '#2ca02c',
};

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Hand-written SVG: per panel, the Pareto frontier of mean |Δrating| (log scale) against a wait
 * axis (log scale, wait + 0.05 s so zero waits show) for each policy, every swept setting as a
 * faint dot, and our recommended default as a ring.
 */
export function frontierSvg(panels: readonly FrontierPanel[], axis: WaitAxis, title: string): string {
  const cols = Math.min(4, panels.length);
  const rows = Math.ceil(panels.length / cols);
  const pw = 300;
  const ph = 250;
  const top = 56;
  const width = cols * pw + 20;
  const height = top + rows * ph + 30;
  const waitLabel = axis === 'p50WaitS' ? 'p50 wait (s)' : 'p95 wait (s)';
  const xTicks = [0, 0.1, 1, 10, 100];
  const yTicks = [1, 3, 10, 30, 100, 300];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(title)}</title>`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
  ];
  FRONTIER_POLICIES.forEach((p, k) => {
    const x = 20 + k * 170;
    out.push(`<line x1="${x}" y1="40" x2="${x + 24}" y2="40" stroke="${COLOUR[p]}" stroke-width="2"/>`);
    out.push(`<text x="${x + 30}" y="44">${p}</text>`);
  });
  out.push(
    `<circle cx="${20 + 3 * 170 + 12}" cy="40" r="6" fill="none" stroke="black" stroke-width="2"/><text x="${20 + 3 * 170 + 30}" y="44">ours, recommended default for the rate</text>`,
  );
  panels.forEach((panel, index) => {
    const ox = 10 + (index % cols) * pw;
    const oy = top + Math.floor(index / cols) * ph;
    const left = ox + 46;
    const right = ox + pw - 12;
    const ptop = oy + 24;
    const bottom = oy + ph - 36;
    const lx = (w: number) => Math.log10(w + 0.05);
    const [x0, x1] = [lx(0), lx(300)];
    const [y0, y1] = [Math.log10(1), Math.log10(400)];
    const px = (w: number) => left + ((Math.min(300, lx(w)) - x0) / (x1 - x0)) * (right - left);
    const py = (g: number) => bottom - ((Math.log10(Math.min(400, Math.max(1, g))) - y0) / (y1 - y0)) * (bottom - ptop);
    out.push(
      `<text x="${(left + right) / 2}" y="${oy + 14}" text-anchor="middle" font-size="12">${escapeXml(panel.title)}</text>`,
    );
    out.push(
      `<rect x="${left}" y="${ptop}" width="${right - left}" height="${bottom - ptop}" fill="none" stroke="#888"/>`,
    );
    for (const t of xTicks) {
      out.push(`<line x1="${px(t)}" y1="${ptop}" x2="${px(t)}" y2="${bottom}" stroke="#eee"/>`);
      out.push(`<text x="${px(t)}" y="${bottom + 14}" text-anchor="middle">${t}</text>`);
    }
    for (const t of yTicks) {
      out.push(`<line x1="${left}" y1="${py(t)}" x2="${right}" y2="${py(t)}" stroke="#eee"/>`);
      out.push(`<text x="${left - 4}" y="${py(t) + 4}" text-anchor="end">${t}</text>`);
    }
    out.push(`<text x="${(left + right) / 2}" y="${bottom + 28}" text-anchor="middle">${waitLabel}</text>`);
    out.push(
      `<text transform="translate(${ox + 12} ${(ptop + bottom) / 2}) rotate(-90)" text-anchor="middle">mean |Δrating|</text>`,
    );
    for (const policy of FRONTIER_POLICIES) {
      const colour = COLOUR[policy];
      const all = panel.points.filter((p) => p.policy === policy);
      for (const p of all)
        out.push(
          `<circle cx="${px(p.summary[axis]).toFixed(1)}" cy="${py(p.summary.meanGap).toFixed(1)}" r="1.6" fill="${colour}" fill-opacity="0.25"/>`,
        );
      const frontier = paretoFrontier(all, axis);
      const d = frontier.map((p) => `${px(p.summary[axis]).toFixed(1)},${py(p.summary.meanGap).toFixed(1)}`);
      out.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${d.join(' ')}"/>`);
      for (const p of frontier)
        out.push(
          `<circle cx="${px(p.summary[axis]).toFixed(1)}" cy="${py(p.summary.meanGap).toFixed(1)}" r="2.6" fill="${colour}"><title>${escapeXml(`${policy} ${p.setting}: gap ${p.summary.meanGap}, p50 ${p.summary.p50WaitS} s, p95 ${p.summary.p95WaitS} s, matched ${p.summary.matchedPct} %`)}</title></circle>`,
        );
    }
    const r = panel.recommended;
    out.push(
      `<circle cx="${px(r.summary[axis]).toFixed(1)}" cy="${py(r.summary.meanGap).toFixed(1)}" r="6" fill="none" stroke="black" stroke-width="2"><title>${escapeXml(`recommended ${r.setting}: gap ${r.summary.meanGap}, p50 ${r.summary.p50WaitS} s, p95 ${r.summary.p95WaitS} s`)}</title></circle>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
