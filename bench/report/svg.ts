/**
 * A grouped bar chart as a standalone SVG, for docs/performances.md: no
 * dependency, text in the page's language, a logarithmic axis when the
 * values span orders of magnitude.
 */
export interface BarSeries {
  readonly name: string;
  readonly color: string;
  /** One value per group (null: not measured, drawn as "n/d"). */
  readonly values: ReadonlyArray<number | null>;
}

export interface BarChart {
  readonly title: string;
  readonly unit: string;
  readonly groups: readonly string[];
  readonly series: readonly BarSeries[];
  readonly log?: boolean;
  readonly format: (value: number) => string;
}

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The opening of a chart: the SVG element, white background, title, and the y axis's unit turned along it at height `yMiddle`. */
function frame(width: number, height: number, yMiddle: number, title: string, unit: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(title)}</text>`,
    `<text x="14" y="${yMiddle}" text-anchor="middle" transform="rotate(-90 14 ${yMiddle})">${escape(unit)}</text>`,
  ];
}

/** Both kinds of chart share one frame: size, and the margins around the plot. */
const FRAME = (() => {
  const width = 720;
  const height = 360;
  const left = 70;
  const right = 20;
  const top = 50;
  const bottom = 70;
  return { width, height, left, right, top, bottom, plotWidth: width - left - right, plotHeight: height - top - bottom };
})();

export function barChartSvg(chart: BarChart): string {
  const { width, height, left, right, top, plotWidth, plotHeight } = FRAME;
  const values = chart.series.flatMap((s) => s.values).filter((v): v is number => v !== null && v > 0);
  const max = Math.max(1e-9, ...values);
  const min = Math.min(max, ...values);
  const log = chart.log === true && values.length > 0;
  const logMin = Math.floor(Math.log10(min));
  const logMax = Math.ceil(Math.log10(max) + 1e-9);
  const y = (v: number): number => {
    if (!log) return top + plotHeight * (1 - v / (max * 1.1));
    const clamped = Math.max(v, 10 ** logMin);
    return top + plotHeight * (1 - (Math.log10(clamped) - logMin) / Math.max(1, logMax - logMin));
  };
  const ticks = log
    ? Array.from({ length: logMax - logMin + 1 }, (_, i) => 10 ** (logMin + i))
    : Array.from({ length: 5 }, (_, i) => ((max * 1.1) / 4) * i);
  const groupWidth = plotWidth / chart.groups.length;
  const barWidth = Math.min(48, (groupWidth * 0.8) / chart.series.length);
  const parts = frame(width, height, top + plotHeight / 2, chart.title, `${chart.unit}${log ? ' (échelle log.)' : ''}`);
  for (const tick of ticks) {
    const ty = y(tick);
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${ty.toFixed(1)}" y2="${ty.toFixed(1)}" stroke="#dddddd"/>`);
    parts.push(`<text x="${left - 6}" y="${(ty + 4).toFixed(1)}" text-anchor="end" fill="#555555">${escape(chart.format(tick))}</text>`);
  }
  parts.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotHeight}" stroke="#333333"/>`);
  parts.push(`<line x1="${left}" x2="${width - right}" y1="${top + plotHeight}" y2="${top + plotHeight}" stroke="#333333"/>`);
  chart.groups.forEach((group, g) => {
    const x0 = left + g * groupWidth + (groupWidth - barWidth * chart.series.length) / 2;
    chart.series.forEach((series, s) => {
      const value = series.values[g] ?? null;
      const x = x0 + s * barWidth;
      if (value === null || value <= 0) {
        parts.push(`<text x="${(x + barWidth / 2).toFixed(1)}" y="${top + plotHeight - 4}" text-anchor="middle" fill="#999999" font-size="10">n/d</text>`);
        return;
      }
      const barTop = y(value);
      parts.push(`<rect x="${(x + 2).toFixed(1)}" y="${barTop.toFixed(1)}" width="${(barWidth - 4).toFixed(1)}" height="${(top + plotHeight - barTop).toFixed(1)}" fill="${series.color}"><title>${escape(`${series.name} : ${chart.format(value)} ${chart.unit}`)}</title></rect>`);
      parts.push(`<text x="${(x + barWidth / 2).toFixed(1)}" y="${(barTop - 4).toFixed(1)}" text-anchor="middle" font-size="10">${escape(chart.format(value))}</text>`);
    });
    parts.push(`<text x="${(left + g * groupWidth + groupWidth / 2).toFixed(1)}" y="${top + plotHeight + 18}" text-anchor="middle">${escape(group)}</text>`);
  });
  chart.series.forEach((series, s) => {
    const x = left + s * 150;
    parts.push(`<rect x="${x}" y="${height - 26}" width="12" height="12" fill="${series.color}"/>`);
    parts.push(`<text x="${x + 18}" y="${height - 16}">${escape(series.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

export interface LineSeries {
  readonly name: string;
  readonly color: string;
  /** [x, y] points in x order. */
  readonly points: ReadonlyArray<readonly [number, number]>;
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly unit: string;
  readonly series: readonly LineSeries[];
  readonly format: (value: number) => string;
  /** The y axis starts at 0 (a curve's flatness reads against its whole height), up to this at least. */
  readonly yMinTop?: number;
}

/** Curves over time (the soak's RSS, heap, descriptors, lag) as a standalone SVG, y from 0. */
export function lineChartSvg(chart: LineChart): string {
  const { width, height, left, right, top, plotWidth, plotHeight } = FRAME;
  const xs = chart.series.flatMap((s) => s.points.map(([x]) => x));
  const ys = chart.series.flatMap((s) => s.points.map(([, yv]) => yv));
  const xMin = Math.min(...xs, 0);
  const xMax = Math.max(...xs, xMin + 1);
  const yTop = Math.max(chart.yMinTop ?? 0, ...ys, 1e-9) * 1.1;
  const x = (v: number): number => left + (plotWidth * (v - xMin)) / (xMax - xMin);
  const y = (v: number): number => top + plotHeight * (1 - v / yTop);
  const parts = frame(width, height, top + plotHeight / 2, chart.title, chart.unit);
  parts.push(`<text x="${left + plotWidth / 2}" y="${top + plotHeight + 36}" text-anchor="middle">${escape(chart.xLabel)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const tick = (yTop / 4) * i;
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#dddddd"/>`);
    parts.push(`<text x="${left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end" fill="#555555">${escape(chart.format(tick))}</text>`);
  }
  for (let i = 0; i <= 6; i++) {
    const tick = xMin + ((xMax - xMin) / 6) * i;
    parts.push(`<text x="${x(tick).toFixed(1)}" y="${top + plotHeight + 18}" text-anchor="middle" fill="#555555">${escape(String(Math.round(tick)))}</text>`);
  }
  parts.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotHeight}" stroke="#333333"/>`);
  parts.push(`<line x1="${left}" x2="${width - right}" y1="${top + plotHeight}" y2="${top + plotHeight}" stroke="#333333"/>`);
  for (const series of chart.series) {
    const points = series.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${points}" fill="none" stroke="${series.color}" stroke-width="2"><title>${escape(series.name)}</title></polyline>`);
  }
  chart.series.forEach((series, s) => {
    const lx = left + s * 200;
    parts.push(`<rect x="${lx}" y="${height - 20}" width="12" height="12" fill="${series.color}"/>`);
    parts.push(`<text x="${lx + 18}" y="${height - 10}">${escape(series.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
