// A 2-D map: Plotly draws the frame (title, axes, ticks); the cells are painted on a
// canvas laid exactly over Plotly's plot area, one canvas pixel per cell, so a
// 256x256 repaint is one putImageData instead of a full Plotly redraw.
// An overlay canvas carries highlights and cell numbers. Drawing only: values
// arrive from the engine and are shown as they are. In presenter view (classroom/mode.js)
// cells, numbers, ticks and lines are drawn bigger, with grid lines between the cells; a
// map redraws itself when the view is toggled. `drawn` says what the last paint used.

import { DIVERGING, GREY, paint, range, textColour } from './colors.js';
import { fmtCell } from './format.js';
import { probe } from './probe.js';
import { PRESENTER_EVENT, SCALE, presenter } from './classroom/mode.js';

const MARGIN = { l: 34, r: 6, t: 26, b: 22 };
const registry = probe.maps;
const live = new Set(); // every map on the page, redrawn when presenter view toggles

document.addEventListener(PRESENTER_EVENT, () => {
  for (const view of live) {
    if (view.el.isConnected) view.redraw();
    else live.delete(view);
  }
});

// Sizes for the current view: normal, or presenter's bigger type, cells and lines.
function look() {
  const on = presenter();
  const k = on ? SCALE.font : 1;
  return {
    on,
    cellScale: on ? SCALE.cell : 1,
    margin: on ? Object.fromEntries(Object.entries(MARGIN).map(([key, v]) => [key, Math.round(v * 1.5)])) : MARGIN,
    tick: Math.round(10 * k),
    title: Math.round(13 * k),
    labelPx: on ? 9 : 6,
    // numbers: at most 13 px (normal) or 26 px bold (presenter); see _fontPx
    fontPx: (cell) => (on ? Math.min(26, Math.floor(cell / 2.2)) : Math.min(13, Math.floor(cell / 2.6))),
    fontWeight: on ? '700 ' : '',
    // grid lines between cells: none normally; in presenter view 2 px where cells are big enough
    gridWidth: (cell) => (on && cell >= 12 ? SCALE.line : 0),
    line: on ? SCALE.line : 1,
  };
}

export class MapView {
  // el: container; opts: {id, title, target (px for the longer side), maxCell, signed,
  // numbers ('auto' | true | false), onCell(r, c, kind) for 'hover' and 'click'}.
  // setData may also take rowLabels / colLabels (arrays of strings) to name the ticks.
  constructor(el, opts) {
    this.el = el;
    this.opts = { target: 240, maxCell: 44, signed: true, numbers: 'auto', ...opts };
    this.rows = 0;
    this.cols = 0;
    this.cell = 0;
    this.values = null;
    this.lo = 0;
    this.hi = 1;
    this.filled = 0;
    this.highlights = [];
    this.margin = MARGIN;
    this.labels = 'null';
    this.rowLabels = undefined;
    this.colLabels = undefined;
    this.drawn = { presenter: false, fontPx: 0, gridWidth: 0, cell: 0, tickPx: 0 };
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
    live.add(this);
  }

  // values: row-major numbers (rows * cols); lo/hi: the data range (from the engine);
  // filled: how many leading cells are computed (the rest are drawn empty).
  setData(values, rows, cols, { lo, hi, filled = rows * cols, title, rowLabels, colLabels } = {}) {
    const labels = rowLabels || colLabels ? JSON.stringify([rowLabels || null, colLabels || null]) : 'null';
    if (
      rows !== this.rows ||
      cols !== this.cols ||
      (title !== undefined && title !== this.title) ||
      labels !== this.labels
    ) {
      this.labels = labels;
      this.rowLabels = rowLabels;
      this.colLabels = colLabels;
      this._layout(rows, cols, title ?? this.title, rowLabels, colLabels);
    }
    this.values = values;
    [this.lo, this.hi] = range(lo, hi, this.opts.signed);
    this.filled = filled;
    this._paint();
  }

  // Lay out and paint again with the same data, e.g. after presenter view was toggled.
  redraw() {
    if (!this.rows) return;
    this._layout(this.rows, this.cols, this.title, this.rowLabels, this.colLabels);
    if (this.values) this._paint();
  }

  _paint() {
    const { rows, cols } = this;
    const image = this.ctx.createImageData(cols, rows);
    paint(image.data, this.values, this.lo, this.hi, this.opts.signed ? DIVERGING : GREY, this.filled);
    this.ctx.putImageData(image, 0, 0);
    this._drawOverlay();
    probe.paints += 1;
    this.paintedAt = performance.now();
    this.el.dispatchEvent(new Event('paint'));
  }

  // Remove from the page and from the registry.
  destroy() {
    if (this.opts.id && registry[this.opts.id] === this) delete registry[this.opts.id];
    live.delete(this);
    this.el.remove();
  }

  // Each highlight: {rows: [...], cols: [...], colour, fill}: the cells rows x cols.
  setHighlights(highlights) {
    this.highlights = highlights;
    this._drawOverlay();
  }

  _layout(rows, cols, title, rowLabels, colLabels) {
    this.rows = rows;
    this.cols = cols;
    this.title = title;
    const L = look();
    // wide maps (a 1-D signal) may use more width than height
    const target = this.opts.target * L.cellScale;
    const fit = Math.min(target / rows, (1.8 * target) / cols);
    const cell = Math.max(1, Math.min(Math.round(this.opts.maxCell * L.cellScale), Math.floor(fit)));
    this.cell = cell;
    const w = cols * cell,
      h = rows * cell;
    const axis = (n, labels) => ({
      range: [-0.5, n - 0.5],
      showgrid: false,
      zeroline: false,
      fixedrange: true,
      ticks: 'outside',
      ticklen: 3,
      tickfont: { size: L.tick },
      dtick: n <= 12 ? 1 : undefined,
      nticks: 6,
      ...(labels ? { tickmode: 'array', tickvals: labels.map((_, i) => i), ticktext: labels } : {}),
    });
    const longest = (labels) => Math.max(0, ...labels.map((t) => String(t).length));
    const px = L.labelPx; // about one tick character's width
    const tilt = colLabels && longest(colLabels) * px > cell;
    const m = {
      ...L.margin,
      l: rowLabels ? Math.max(L.margin.l, px * longest(rowLabels) + 12) : L.margin.l,
      b: tilt ? Math.max(L.margin.b, 0.75 * px * longest(colLabels) + 12) : L.margin.b,
    };
    this.margin = m;
    const layout = {
      width: w + m.l + m.r,
      height: h + m.t + m.b,
      margin: { ...m, pad: 0 },
      title: {
        text: title || '',
        font: { size: L.title },
        x: 0,
        xanchor: 'left',
        xref: 'paper',
        y: 1,
        yanchor: 'bottom',
        yref: 'paper',
        pad: { b: 6 },
      },
      xaxis: { ...axis(cols, colLabels), side: 'bottom', ...(tilt ? { tickangle: -45 } : {}) },
      yaxis: { ...axis(rows, rowLabels), range: [rows - 0.5, -0.5] },
      paper_bgcolor: 'rgba(0,0,0,0)',
      plot_bgcolor: 'rgba(0,0,0,0)',
      showlegend: false,
    };
    window.Plotly.react(this.plot, [{ type: 'scatter', x: [], y: [], hoverinfo: 'skip' }], layout, {
      staticPlot: true,
      displayModeBar: false,
      responsive: false,
    });
    for (const c of [this.canvas, this.overlay]) {
      c.style.left = `${m.l}px`;
      c.style.top = `${m.t}px`;
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
    }
    this.canvas.width = cols;
    this.canvas.height = rows;
    const dpr = window.devicePixelRatio || 1;
    this.overlay.width = Math.round(w * dpr);
    this.overlay.height = Math.round(h * dpr);
    this.octx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.el.style.width = `${w + m.l + m.r}px`;
    this.el.style.height = `${h + m.t + m.b}px`;
  }

  _showNumbers() {
    const n = this.opts.numbers;
    return n === 'auto' ? this.cell >= 22 : n;
  }

  // Presenter view's numbers are as big as the widest one allows within its cell (9 px at least).
  _fontPx(L) {
    const px = L.fontPx(this.cell);
    if (!L.on || !this.values) return px;
    const g = this.octx;
    g.font = `${L.fontWeight}${px}px system-ui, sans-serif`;
    let widest = 0;
    const n = Math.min(this.filled, this.rows * this.cols);
    for (let i = 0; i < n; i++) widest = Math.max(widest, g.measureText(fmtCell(this.values[i])).width);
    const fits = widest > 0 ? Math.floor((px * (this.cell - 4)) / widest) : px;
    return Math.max(9, Math.min(px, fits));
  }

  _drawOverlay() {
    const { octx: g, cell, rows, cols } = this;
    const L = look();
    g.clearRect(0, 0, cols * cell, rows * cell);
    const numbers = this._showNumbers();
    this.drawn = {
      presenter: L.on,
      cell,
      fontPx: numbers ? this._fontPx(L) : 0,
      gridWidth: L.gridWidth(cell),
      tickPx: L.tick,
    };
    if (!this.values) return;
    if (this.drawn.gridWidth) {
      g.lineWidth = this.drawn.gridWidth;
      g.strokeStyle = 'rgba(20, 24, 30, 0.55)';
      g.beginPath();
      for (let r = 1; r < rows; r++) {
        g.moveTo(0, r * cell);
        g.lineTo(cols * cell, r * cell);
      }
      for (let c = 1; c < cols; c++) {
        g.moveTo(c * cell, 0);
        g.lineTo(c * cell, rows * cell);
      }
      g.stroke();
    }
    if (numbers) {
      const lut = this.opts.signed ? DIVERGING : GREY;
      g.font = `${L.fontWeight}${this.drawn.fontPx}px system-ui, sans-serif`;
      g.textAlign = 'center';
      g.textBaseline = 'middle';
      for (let i = 0; i < Math.min(this.filled, rows * cols); i++) {
        const v = this.values[i];
        const r = Math.floor(i / cols),
          c = i % cols;
        g.fillStyle = textColour(lut, v, this.lo, this.hi);
        g.fillText(fmtCell(v), c * cell + cell / 2, r * cell + cell / 2 + 0.5);
      }
    }
    for (const h of this.highlights) {
      g.lineWidth = (h.width || 2) * L.line;
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
        g.setLineDash([4 * L.line, 3 * L.line]);
        g.strokeRect(c0 * cell, r0 * cell, (c1 - c0) * cell, (r1 - r0) * cell);
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
  tip.style.left = `${x + 12}px`;
  tip.style.top = `${y + 12}px`;
}

function hideTooltip() {
  const tip = document.getElementById('tooltip');
  if (tip) tip.hidden = true;
}
