// Inline SVG charts built with DOM calls only: no markup strings, so no data is ever parsed as HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Creates an SVG element with attributes. */
export function svgEl(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/** A small line of values (0..max) for a table cell; `limit` draws a dashed threshold line. */
export function sparkline(values, { width = 120, height = 28, limit = null } = {}) {
  const svg = svgEl('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'spark', role: 'img' });
  const max = Math.max(limit ?? 0, ...values, 1e-9);
  const x = (i) => (values.length <= 1 ? width / 2 : (i / (values.length - 1)) * (width - 4) + 2);
  const y = (v) => height - 3 - (v / max) * (height - 6);
  if (limit !== null) {
    svg.append(
      svgEl('line', { x1: 0, x2: width, y1: y(limit), y2: y(limit), stroke: '#b3261e', 'stroke-dasharray': '3 3' }),
    );
  }
  if (values.length > 0) {
    const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    svg.append(svgEl('polyline', { points, fill: 'none', stroke: '#2456c9', 'stroke-width': 1.6 }));
  }
  return svg;
}

/**
 * A rate over time with threshold lines: `points` are `{ t: ISO hour, v: rate }`, `lines` are
 * `{ value, label, color }`. Axis labels are percentages.
 */
export function rateChart(points, lines, { width = 560, height = 200, title = '' } = {}) {
  const pad = { left: 52, right: 12, top: 12, bottom: 26 };
  const svg = svgEl('svg', {
    width: '100%',
    viewBox: `0 0 ${width} ${height}`,
    class: 'chart',
    role: 'img',
    'aria-label': title,
  });
  const max = Math.max(...lines.map((l) => l.value * 1.25), ...points.map((p) => p.v), 1e-9);
  const iw = width - pad.left - pad.right;
  const ih = height - pad.top - pad.bottom;
  const x = (i) => pad.left + (points.length <= 1 ? iw / 2 : (i / (points.length - 1)) * iw);
  const y = (v) => pad.top + ih - (Math.min(v, max) / max) * ih;
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    svg.append(svgEl('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), stroke: '#eef0f4' }));
    const label = svgEl('text', { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end' });
    label.textContent = `${(v * 100).toFixed(2)} %`;
    svg.append(label);
  }
  for (const l of lines) {
    svg.append(
      svgEl('line', {
        x1: pad.left,
        x2: width - pad.right,
        y1: y(l.value),
        y2: y(l.value),
        stroke: l.color,
        'stroke-width': 1.4,
        'stroke-dasharray': '6 4',
      }),
    );
  }
  if (points.length > 0) {
    const pts = points.map((p, i) => `${x(i).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
    svg.append(svgEl('polyline', { points: pts, fill: 'none', stroke: '#2456c9', 'stroke-width': 1.6 }));
    const step = Math.max(1, Math.floor(points.length / 7));
    for (let i = 0; i < points.length; i += step) {
      const label = svgEl('text', { x: x(i), y: height - 8, 'text-anchor': 'middle' });
      label.textContent = points[i].t.slice(5, 10);
      svg.append(label);
    }
  }
  return svg;
}
