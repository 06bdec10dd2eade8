// A small SVG line chart for metrics sampled over time (no chart library: the UI must work air-gapped).

import { h, s } from './dom.js';

const WIDTH = 600;
const HEIGHT = 200;
const PAD = { left: 64, right: 12, top: 12, bottom: 26 };

/** A "nice" upper bound for the y axis: 1, 2 or 5 times a power of ten, at least max. */
export function niceMax(max) {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

/**
 * A chart of several series over the last `capacity` samples. series: [{key, label, cls}], format(value) for axis and
 * labels. push({t: Date, values: {key: number}}) adds a sample and redraws.
 */
export class LineChart {
  constructor({ id, title, series, format, capacity = 90 }) {
    this.series = series;
    this.format = format;
    this.capacity = capacity;
    this.samples = [];
    this.svg = s('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'chart-svg', role: 'img', 'aria-labelledby': `${id}-title ${id}-summary` });
    this.summary = h('p', { id: `${id}-summary`, class: 'chart-summary' });
    this.element = h('figure', { class: 'chart', id },
      h('figcaption', { id: `${id}-title` }, title),
      this.svg,
      h('ul', { class: 'legend' }, series.map((x) => h('li', { class: x.cls }, h('span', { class: 'swatch', 'aria-hidden': 'true' }), x.label))),
      this.summary);
    this.draw();
  }

  push(sample) {
    this.samples.push(sample);
    if (this.samples.length > this.capacity) this.samples.shift();
    this.draw();
  }

  draw() {
    const plotW = WIDTH - PAD.left - PAD.right;
    const plotH = HEIGHT - PAD.top - PAD.bottom;
    const max = niceMax(Math.max(0, ...this.samples.flatMap((p) => this.series.map((x) => p.values[x.key] ?? 0))));
    const nodes = [];
    for (let i = 0; i <= 4; i++) {
      const y = PAD.top + plotH - (plotH * i) / 4;
      nodes.push(s('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y, y2: y, class: 'grid' }));
      nodes.push(s('text', { x: PAD.left - 6, y: y + 4, class: 'axis-label', 'text-anchor': 'end' }, this.format((max * i) / 4)));
    }
    const n = this.samples.length;
    if (n > 0) {
      const t0 = this.samples[0].t.getTime();
      const span = Math.max(1, this.samples[n - 1].t.getTime() - t0);
      nodes.push(s('text', { x: PAD.left, y: HEIGHT - 6, class: 'axis-label' }, `−${Math.round(span / 1000)} s`));
      nodes.push(s('text', { x: WIDTH - PAD.right, y: HEIGHT - 6, class: 'axis-label', 'text-anchor': 'end' }, 'now'));
      for (const x of this.series) {
        const points = this.samples.map((p) => {
          const px = n === 1 ? PAD.left + plotW : PAD.left + (plotW * (p.t.getTime() - t0)) / span;
          const py = PAD.top + plotH - (plotH * (p.values[x.key] ?? 0)) / max;
          return `${px.toFixed(1)},${py.toFixed(1)}`;
        });
        nodes.push(s('polyline', { points: points.join(' '), class: `series ${x.cls}` }));
      }
      const last = this.samples[n - 1].values;
      this.summary.textContent = `Latest: ${this.series.map((x) => `${x.label} ${this.format(last[x.key] ?? 0)}`).join(', ')}.`;
    } else {
      nodes.push(s('text', { x: WIDTH / 2, y: HEIGHT / 2, class: 'axis-label', 'text-anchor': 'middle' }, 'waiting for samples…'));
      this.summary.textContent = 'No samples yet.';
    }
    this.svg.replaceChildren(...nodes);
  }
}
