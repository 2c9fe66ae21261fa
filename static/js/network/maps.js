// Rows of small feature maps (one Tile per channel) and the probability bar chart. Drawing only:
// every value arrives from /api/network/*.

import { Colorbar } from '../colorbar.js';
import { DIVERGING, GREY, range } from '../colors.js';
import { presenter } from '../classroom/mode.js';
import { extent } from '../mapview.js';
import { Tile } from './tile.js';
import { purge, react } from '../kit/plotly-ready.js';

// Draw a matrix (rows of numbers) into a MapView; signed colours when asked or when a value is negative.
export function drawMatrix(view, matrix, title, signed) {
  const rows = Array.isArray(matrix[0]) ? matrix : [matrix];
  const values = rows.flat();
  const ext = extent(values);
  view.opts.signed = signed ?? ext.lo < 0;
  view.setData(values, rows.length, rows[0].length, { ...ext, title });
}

// One layer: a heading with its shape and one Tile per channel, ids `${prefix}-${layer}-${c}`,
// `cell` pixels per cell.
export class LayerRow {
  constructor(parent, prefix, layer, { cell = 4, onClick = null } = {}) {
    this.el = document.createElement('div');
    this.el.className = 'net-row';
    this.el.dataset.layer = layer;
    this.title = document.createElement('h3');
    this.maps = document.createElement('div');
    this.maps.className = 'net-maprow';
    this.el.append(this.title, this.maps);
    parent.append(this.el);
    this.prefix = prefix;
    this.layer = layer;
    this.cell = cell;
    this.onClick = onClick;
    this.views = [];
    this.bar = null; // one colour bar for the row: its channels share one range
  }

  // maps: (C, H, W) nested arrays; label: the heading; shared: one colour range for every channel.
  draw(maps, label, { signed, shared = true } = {}) {
    this.title.textContent = label;
    while (this.views.length < maps.length) {
      const c = this.views.length;
      const box = document.createElement('div');
      this.maps.append(box);
      const onCell = this.onClick
        ? (_r, _col, kind) => {
            if (kind === 'click') this.onClick(this.layer, c);
          }
        : null;
      this.views.push(
        new Tile(box, { id: `${this.prefix}-${this.layer}-${c}`, cell: this.cell, name: this.layer, onCell }),
      );
    }
    const all = shared ? extent(maps.flat(2)) : null;
    maps.forEach((m, c) => {
      const view = this.views[c];
      const values = m.flat();
      const ext = all || extent(values);
      view.opts.signed = signed ?? ext.lo < 0;
      view.setData(values, m.length, m[0].length, { ...ext, title: `${c}` });
    });
    if (!this.bar) this.bar = new Colorbar(this.maps, { height: Math.max(48, maps[0].length * this.cell) });
    this.bar.canvas.hidden = !all;
    if (all) {
      const isSigned = signed ?? all.lo < 0;
      const [lo, hi] = range(all.lo, all.hi, isSigned);
      this.bar.set({ lut: isSigned ? DIVERGING : GREY, lo, hi, signed: isSigned });
    }
  }
}

// The probabilities as bars, the predicted class (or the target) in the accent colour.
export function drawBars(el, values, marked, yTitle) {
  const colours = values.map((_, k) => (k === marked ? '#1f6feb' : '#9aa4b2'));
  const data = [
    {
      type: 'bar',
      x: values.map((_, k) => String(k)),
      y: values,
      marker: { color: colours },
      text: values.map((v) => `${(100 * v).toFixed(1)}%`),
      textposition: 'outside',
      cliponaxis: false,
      hovertemplate: 'class %{x}: %{y:.4f}<extra></extra>',
    },
  ];
  // the projector's chart: room for its bars to be read from the back (not on a phone)
  const big = presenter() && window.matchMedia('(min-width: 701px)').matches;
  const layout = {
    width: big ? 640 : 420,
    height: big ? 320 : 230,
    margin: { l: 44, r: 10, t: 14, b: 36 },
    xaxis: { title: { text: 'class' }, type: 'category', fixedrange: true },
    yaxis: { title: { text: yTitle }, range: [0, 1.12], fixedrange: true },
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
  };
  delete el.dataset.empty;
  react(el, data, layout, { displayModeBar: false, responsive: false });
}

// No bars at all (nothing to predict): the chart's box keeps its place and says why it is empty.
export function clearBars(el, why) {
  purge(el);
  el.replaceChildren();
  el.dataset.empty = why;
}
