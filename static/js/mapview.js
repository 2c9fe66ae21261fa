// A 2-D map: Plotly draws the frame (title, axes, ticks); the cells are painted on a
// canvas laid exactly over Plotly's plot area, one canvas pixel per cell, so a
// 256x256 repaint is one putImageData instead of a full Plotly redraw.
// An overlay canvas carries highlights and cell numbers. Drawing only: values
// arrive from the engine and are shown as they are.

import { DIVERGING, GREY, paint, range, textColour } from './colors.js';
import { fmtCell } from './format.js';
import { probe } from './probe.js';

const MARGIN = { l: 34, r: 6, t: 26, b: 22 };
const registry = probe.maps;

export class MapView {
  // el: container; opts: {id, title, target (px for the longer side), maxCell, signed,
  // numbers ('auto' | true | false), onCell(r, c, kind) for 'hover' and 'click'}.
  // setData may also take rowLabels / colLabels (arrays of strings) to name the ticks.
  constructor(el, opts) {
    this.el = el;
    this.opts = { target: 240, maxCell: 44, signed: true, numbers: 'auto', ...opts };
    this.rows = 0; this.cols = 0; this.cell = 0;
    this.values = null; this.lo = 0; this.hi = 1; this.filled = 0;
    this.highlights = [];
    this.margin = MARGIN;
    this.labels = 'null';
    el.classList.add('mapview');
    this.plot = document.createElement('div');
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'cells';
    this.overlay = document.createElement('canvas');
    this.overlay.className = 'overlay';
    el.append(this.plot, this.canvas, this.overlay);
    this.ctx = this.canvas.getContext('2d');
    this.octx = this.overlay.getContext('2d');
    this.overlay.addEventListener('mousemove', (e) => this._pointer(e, 'hover'));
    this.overlay.addEventListener('click', (e) => this._pointer(e, 'click'));
    this.overlay.addEventListener('mouseleave', () => hideTooltip());
    if (opts.id) registry[opts.id] = this;
  }

  // values: row-major numbers (rows * cols); lo/hi: the data range (from the engine);
  // filled: how many leading cells are computed (the rest are drawn empty).
  setData(values, rows, cols, { lo, hi, filled = rows * cols, title, rowLabels, colLabels } = {}) {
    const labels = rowLabels || colLabels ? JSON.stringify([rowLabels || null, colLabels || null]) : 'null';
    if (rows !== this.rows || cols !== this.cols || (title !== undefined && title !== this.title)
      || labels !== this.labels) {
      this.labels = labels;
      this._layout(rows, cols, title ?? this.title, rowLabels, colLabels);
    }
    this.values = values;
    [this.lo, this.hi] = range(lo, hi, this.opts.signed);
    this.filled = filled;
    const image = this.ctx.createImageData(cols, rows);
    paint(image.data, values, this.lo, this.hi, this.opts.signed ? DIVERGING : GREY, filled);
    this.ctx.putImageData(image, 0, 0);
    this._drawOverlay();
    probe.paints += 1;
    this.paintedAt = performance.now();
    this.el.dispatchEvent(new Event('paint'));
  }

  // Remove from the page and from the registry.
  destroy() {
    if (this.opts.id && registry[this.opts.id] === this) delete registry[this.opts.id];
    this.el.remove();
  }

  // Each highlight: {rows: [...], cols: [...], colour, fill}: the cells rows x cols.
  setHighlights(highlights) {
    this.highlights = highlights;
    this._drawOverlay();
  }

  _layout(rows, cols, title, rowLabels, colLabels) {
    this.rows = rows; this.cols = cols; this.title = title;
    // wide maps (a 1-D signal) may use more width than height
    const fit = Math.min(this.opts.target / rows, (1.8 * this.opts.target) / cols);
    const cell = Math.max(1, Math.min(this.opts.maxCell, Math.floor(fit)));
    this.cell = cell;
    const w = cols * cell, h = rows * cell;
    const axis = (n, labels) => ({
      range: [-0.5, n - 0.5], showgrid: false, zeroline: false, fixedrange: true, ticks: 'outside',
      ticklen: 3, tickfont: { size: 10 }, dtick: n <= 12 ? 1 : undefined, nticks: 6,
      ...(labels ? { tickmode: 'array', tickvals: labels.map((_, i) => i), ticktext: labels } : {}),
    });
    const longest = (labels) => Math.max(0, ...labels.map((t) => String(t).length));
    const tilt = colLabels && longest(colLabels) * 6 > cell;
    const m = this.margin = {
      ...MARGIN,
      l: rowLabels ? Math.max(MARGIN.l, 6 * longest(rowLabels) + 12) : MARGIN.l,
      b: tilt ? Math.max(MARGIN.b, 4.5 * longest(colLabels) + 12) : MARGIN.b,
    };
    const layout = {
      width: w + m.l + m.r, height: h + m.t + m.b, margin: { ...m, pad: 0 },
      title: { text: title || '', font: { size: 13 }, x: 0, xanchor: 'left', xref: 'paper', y: 1, yanchor: 'bottom', yref: 'paper', pad: { b: 6 } },
      xaxis: { ...axis(cols, colLabels), side: 'bottom', ...(tilt ? { tickangle: -45 } : {}) },
      yaxis: { ...axis(rows, rowLabels), range: [rows - 0.5, -0.5] },
      paper_bgcolor: 'rgba(0,0,0,0)', plot_bgcolor: 'rgba(0,0,0,0)', showlegend: false,
    };
    window.Plotly.react(this.plot, [{ type: 'scatter', x: [], y: [], hoverinfo: 'skip' }], layout,
      { staticPlot: true, displayModeBar: false, responsive: false });
    for (const c of [this.canvas, this.overlay]) {
      c.style.left = `${m.l}px`; c.style.top = `${m.t}px`;
      c.style.width = `${w}px`; c.style.height = `${h}px`;
    }
    this.canvas.width = cols; this.canvas.height = rows;
    const dpr = window.devicePixelRatio || 1;
    this.overlay.width = Math.round(w * dpr); this.overlay.height = Math.round(h * dpr);
    this.octx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.el.style.width = `${w + m.l + m.r}px`;
    this.el.style.height = `${h + m.t + m.b}px`;
  }

  _showNumbers() {
    const n = this.opts.numbers;
    return n === 'auto' ? this.cell >= 22 : n;
  }

  _drawOverlay() {
    const { octx: g, cell, rows, cols } = this;
    g.clearRect(0, 0, cols * cell, rows * cell);
    if (!this.values) return;
    if (this._showNumbers()) {
      const lut = this.opts.signed ? DIVERGING : GREY;
      g.font = `${Math.min(13, Math.floor(cell / 2.6))}px system-ui, sans-serif`;
      g.textAlign = 'center'; g.textBaseline = 'middle';
      for (let i = 0; i < Math.min(this.filled, rows * cols); i++) {
        const v = this.values[i];
        const r = Math.floor(i / cols), c = i % cols;
        g.fillStyle = textColour(lut, v, this.lo, this.hi);
        g.fillText(fmtCell(v), c * cell + cell / 2, r * cell + cell / 2 + 0.5);
      }
    }
    for (const h of this.highlights) {
      g.lineWidth = h.width || 2;
      g.strokeStyle = h.colour || '#ffb000';
      g.fillStyle = h.fill || 'rgba(255,176,0,0.18)';
      for (const r of h.rows) {
        for (const c of h.cols) {
          if (h.fill !== null) g.fillRect(c * cell, r * cell, cell, cell);
          g.strokeRect(c * cell + 1, r * cell + 1, cell - 2, cell - 2);
        }
      }
      if (h.frame) {
        const [r0, c0, r1, c1] = h.frame;
        g.setLineDash([4, 3]); g.strokeRect(c0 * cell, r0 * cell, (c1 - c0) * cell, (r1 - r0) * cell);
        g.setLineDash([]);
      }
    }
  }

  _pointer(e, kind) {
    if (!this.values) return;
    const box = this.overlay.getBoundingClientRect();
    const c = Math.floor((e.clientX - box.left) / this.cell);
    const r = Math.floor((e.clientY - box.top) / this.cell);
    if (r < 0 || c < 0 || r >= this.rows || c >= this.cols) return;
    const i = r * this.cols + c;
    const v = i < this.filled ? fmtCell(this.values[i]) : 'not computed yet';
    showTooltip(e.clientX, e.clientY, `${this.title || ''} [${r}, ${c}] = ${v}`);
    if (this.opts.onCell) this.opts.onCell(r, c, kind);
  }
}

function showTooltip(x, y, text) {
  const tip = document.getElementById('tooltip');
  if (!tip) return;
  tip.textContent = text;
  tip.hidden = false;
  tip.style.left = `${x + 12}px`; tip.style.top = `${y + 12}px`;
}

function hideTooltip() {
  const tip = document.getElementById('tooltip');
  if (tip) tip.hidden = true;
}
