import type { PolicyOutcome } from './simulate.js';

export interface PolicySummary {
  matchedPct: number;
  meanGap: number;
  p95Gap: number;
  p50WaitS: number;
  p95WaitS: number;
  p99WaitS: number;
}

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function summarise(o: PolicyOutcome): PolicySummary {
  const gaps = o.matches.map((m) => m.gap).sort((a, b) => a - b);
  const waits = o.matches.flatMap((m) => m.waits).sort((a, b) => a - b);
  const round = (x: number, d = 1) => Number(x.toFixed(d));
  return {
    matchedPct: round(o.arrivals === 0 ? 0 : (100 * o.matched) / o.arrivals),
    meanGap: round(gaps.length === 0 ? 0 : gaps.reduce((s, g) => s + g, 0) / gaps.length),
    p95Gap: round(percentile(gaps, 0.95)),
    p50WaitS: round(percentile(waits, 0.5) / 1000, 2),
    p95WaitS: round(percentile(waits, 0.95) / 1000, 2),
    p99WaitS: round(percentile(waits, 0.99) / 1000, 2),
  };
}

const COLOURS = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd'];

/** Hand-written SVG: mean rating gap per wait bin (each player's wait vs their pair's gap), per policy. */
export function gapVersusWaitSvg(outcomes: readonly PolicyOutcome[], title: string): string {
  const width = 760;
  const height = 440;
  const left = 70;
  const right = 170;
  const top = 50;
  const bottom = 60;
  const allWaits = outcomes.flatMap((o) => o.matches.flatMap((m) => m.waits)).sort((a, b) => a - b);
  const maxWait = Math.max(10, Math.ceil(percentile(allWaits, 0.99) / 1000));
  const binS = Math.max(1, Math.ceil(maxWait / 30));
  const bins = Math.ceil(maxWait / binS);
  const series = outcomes.map((o) => {
    const sum = new Float64Array(bins);
    const count = new Float64Array(bins);
    for (const m of o.matches) {
      for (const w of m.waits) {
        const b = Math.floor(w / 1000 / binS);
        if (b < bins) {
          sum[b]! += m.gap;
          count[b]!++;
        }
      }
    }
    return Array.from(sum, (s, b) => (count[b]! > 0 ? { x: (b + 0.5) * binS, y: s / count[b]! } : null));
  });
  const maxGap = Math.max(10, ...series.flat().map((p) => p?.y ?? 0));
  const yMax = Math.ceil(maxGap / 25) * 25;
  const px = (x: number) => left + (x / (bins * binS)) * (width - left - right);
  const py = (y: number) => height - bottom - (y / yMax) * (height - top - bottom);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<title>${escapeXml(title)}</title>`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${width / 2 - right / 2}" y="24" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`);
  out.push(`<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="black"/>`);
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="black"/>`);
  for (let t = 0; t <= 5; t++) {
    const x = (t / 5) * bins * binS;
    const y = (t / 5) * yMax;
    out.push(`<line x1="${px(x)}" y1="${height - bottom}" x2="${px(x)}" y2="${height - bottom + 5}" stroke="black"/>`);
    out.push(`<text x="${px(x)}" y="${height - bottom + 18}" text-anchor="middle">${x.toFixed(0)}</text>`);
    out.push(`<line x1="${left - 5}" y1="${py(y)}" x2="${left}" y2="${py(y)}" stroke="black"/>`);
    out.push(`<line x1="${left}" y1="${py(y)}" x2="${width - right}" y2="${py(y)}" stroke="#eee"/>`);
    out.push(`<text x="${left - 8}" y="${py(y) + 4}" text-anchor="end">${y.toFixed(0)}</text>`);
  }
  out.push(
    `<text x="${(left + width - right) / 2}" y="${height - 18}" text-anchor="middle">wait until paired (s, ${binS} s bins)</text>`,
  );
  out.push(
    `<text transform="translate(18 ${(top + height - bottom) / 2}) rotate(-90)" text-anchor="middle">mean rating gap of the pair</text>`,
  );
  series.forEach((points, s) => {
    const colour = COLOURS[s % COLOURS.length]!;
    const d = points.filter((p) => p !== null).map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`);
    if (d.length > 0) out.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${d.join(' ')}"/>`);
    for (const p of points)
      if (p) out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="2.5" fill="${colour}"/>`);
    const ly = top + 10 + s * 20;
    out.push(
      `<line x1="${width - right + 15}" y1="${ly}" x2="${width - right + 40}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`,
    );
    out.push(`<text x="${width - right + 46}" y="${ly + 4}">${escapeXml(outcomes[s]!.policy)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
