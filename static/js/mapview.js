// A 2-D map: Plotly draws the frame (title, axes, ticks); the cells are painted on a
// canvas laid exactly over Plotly's plot area, one canvas pixel per cell, so a
// 256x256 repaint is one putImageData instead of a full Plotly redraw. The canvas is placed and
// painted without Plotly, so a map shows before Plotly.js has loaded; its frame follows.
// An overlay canvas carries highlights and cell numbers, and a colour bar beside the map shows
// its scale: grey for maps with no negative value (an image shows as itself), blue-white-red
// centred on 0 for signed ones. Drawing only: values arrive from the engine and are shown as
// they are. In presenter view (classroom/mode.js) cells, numbers, ticks and lines are drawn
// bigger, with grid lines between the cells; a map redraws itself when the view is toggled.
// `drawn` says what the last paint used, the cell labels' boxes included.

import { DIVERGING, GREY, paint, range, textColour } from './colors.js';
import { colorbarWidth, drawColorbar } from './colorbar.js';
import { fmt, mapLabels } from './format.js';
import { probe } from './probe.js';
import { PRESENTER_EVENT, SCALE, presenter } from './classroom/mode.js';
import { whenPlotlyAfterPaint } from './kit/plotly-ready.js';

const MARGIN = { l: 34, r: 6, t: 26, b: 22 };
const NICE = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000];
const FRAME_DATA = [{ type: 'scatter', x: [], y: [], hoverinfo: 'skip' }]; // no trace: the cells are the canvas
const FRAME_CONFIG = { staticPlot: true, displayModeBar: false, responsive: false };
const AXIS = { showgrid: false, zeroline: false, fixedrange: true, ticks: 'outside', ticklen: 3 };
const NO_TICKS = { ticks: '', showticklabels: false };
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
    // numbers: at most 18 px (normal) or 28 px bold (presenter), smaller when the widest needs it
    fontPx: (cell) => (on ? Math.min(28, Math.floor(cell / 2.2)) : Math.min(18, Math.floor(cell / 2.6))),
    fontWeight: on ? '700 ' : '',
    // grid lines between cells: none normally; in presenter view 2 px where cells are big enough
    gridWidth: (cell) => (on && cell >= 12 ? SCALE.line : 0),
    line: on ? SCALE.line : 1,
    bar: on ? 16 : 12,
  };
}

// A Plotly axis over n cells with ticks at `vals` (cell indices), written by `label`, at `font` px.
function ticksAt(n, font, vals, label) {
  return {
    ...AXIS,
    range: [-0.5, n - 0.5],
    tickfont: { size: font },
    tickmode: 'array',
    tickvals: vals,
    ticktext: vals.map((v) => label(v)),
  };
}

// The smallest and largest number among `values` (nulls and NaN skipped): a map's data range.
export function extent(values, n = values.length) {
  let lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || Number.isNaN(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? { lo, hi } : { lo: 0, hi: 0 };
}

// Every map on the page that is in the document: what the legibility tests read.
export function liveMaps() {
  return [...live].filter((v) => v.el.isConnected);
}
probe.liveMaps = liveMaps;

export class MapView {
  // el: container; opts: {id, title, target (px for the longer side), maxCell, signed ('auto':
  // diverging when a value is negative; true; false), numbers ('auto' or true: when they fit;
  // false), colorbar (true, or false when a shared Colorbar stands for a group), titleOverTicks
  // (false; true: the title starts at the frame's left edge, over the row labels), axes (true;
  // false: the cells alone, no title, ticks or labels drawn: a thumbnail the page captions),
  // onCell(r, c, kind) for 'hover' and 'click'}.
  // setData may also take rowLabels / colLabels (arrays of strings) to name the ticks.
  constructor(el, opts) {
    this.el = el;
    this.opts = { target: 240, maxCell: 44, signed: 'auto', numbers: 'auto', colorbar: true, ...opts };
    this.rows = 0;
    this.cols = 0;
    this.cell = 0;
    this.values = null;
    this.lo = 0;
    this.hi = 1;
    this.signed = false;
    this.lut = GREY;
    this.filled = 0;
    this.highlights = [];
    this.margin = MARGIN;
    this.labels = 'null';
    this.rowLabels = undefined;
    this.colLabels = undefined;
    this.barWidth = 0;
    this.framePending = false; // a frame waits for Plotly.js
    this.drawn = { presenter: false, fontPx: 0, gridWidth: 0, cell: 0, tickPx: 0, labels: [] };
    el.classList.add('mapview');
    this.plot = document.createElement('div');
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'cells';
    this.overlay = document.createElement('canvas');
    this.overlay.className = 'overlay';
    this.bar = document.createElement('canvas');
    this.bar.className = 'colorbar';
    this.bar.setAttribute('role', 'img');
    this.bar.hidden = !this.opts.colorbar;
    el.append(this.plot, this.canvas, this.overlay, this.bar);
    this.ctx = this.canvas.getContext('2d');
    this.octx = this.overlay.getContext('2d');
    this.overlay.addEventListener('mousemove', (e) => this._pointer(e, 'hover'));
    this.overlay.addEventListener('click', (e) => this._pointer(e, 'click'));
    this.overlay.addEventListener('mouseleave', () => hideTooltip());
    if (opts.id) registry[opts.id] = this;
    live.add(this);
  }

  // values: row-major numbers (rows * cols); lo/hi: the colour range (the data's own range when
  // not given); filled: how many leading cells are computed (the rest are drawn empty).
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
    if (lo === undefined || hi === undefined) ({ lo, hi } = extent(values, Math.min(filled, values.length)));
    const s = this.opts.signed;
    this.signed = s === 'auto' ? lo < 0 : Boolean(s);
    this.lut = this.signed ? DIVERGING : GREY;
    [this.lo, this.hi] = range(lo, hi, this.signed);
    this.filled = filled;
    this._paint();
  }

  // A matrix (an array of rows) with the same options as setData.
  setMatrix(matrix, options = {}) {
    const rows = matrix.length,
      cols = rows ? matrix[0].length : 0;
    const values = new Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) values[r * cols + c] = matrix[r][c];
    this.setData(values, rows, cols, options);
  }

  // Lay out and paint again with the same data, e.g. after presenter view was toggled.
  redraw() {
    if (!this.rows) return;
    this._layout(this.rows, this.cols, this.title, this.rowLabels, this.colLabels);
    if (this.values) this._paint();
  }

  _paint() {
    const { rows, cols } = this;
    // one pixel buffer per size, kept: a live edit repaints every pixel of it
    if (this.image?.width !== cols || this.image.height !== rows) this.image = this.ctx.createImageData(cols, rows);
    const image = this.image;
    paint(image.data, this.values, this.lo, this.hi, this.lut, this.filled);
    this.ctx.putImageData(image, 0, 0);
    this._drawOverlay();
    this._drawBar();
    probe.paints += 1;
    this.paintedAt = performance.now();
    this.el.dispatchEvent(new Event('paint'));
  }

  // The colour bar to the right of the cells, as tall as the map (48 px at least).
  _drawBar() {
    if (!this.opts.colorbar) return;
    const L = look();
    const m = this.margin;
    const fontPx = L.tick;
    const width = colorbarWidth(this.octx, this.lo, this.hi, this.signed, fontPx, L.bar);
    const height = Math.max(48, this.rows * this.cell + fontPx);
    if (width > this.barWidth) {
      this.barWidth = width;
      this._size();
    }
    this.bar.style.left = `${m.l + this.cols * this.cell}px`;
    this.bar.style.top = `${m.t - fontPx / 2}px`;
    // a live edit repaints the cells many times a second; the bar only when its scale or size changed
    const key = `${this.lo},${this.hi},${this.signed},${fontPx},${this.barWidth},${height},${L.bar}`;
    if (key === this.barKey) return;
    this.barKey = key;
    drawColorbar(this.bar, {
      lut: this.lut,
      lo: this.lo,
      hi: this.hi,
      signed: this.signed,
      fontPx,
      width: this.barWidth,
      height,
      barPx: L.bar,
    });
    this.bar.setAttribute('aria-label', `colour scale from ${fmt(this.lo, 3)} to ${fmt(this.hi, 3)}`);
  }

  // The element's box: the Plotly frame plus the colour bar.
  _size() {
    const m = this.margin;
    const w = this.cols * this.cell,
      h = this.rows * this.cell;
    this.el.style.width = `${w + m.l + Math.max(m.r, this.opts.colorbar ? this.barWidth : 0)}px`;
    this.el.style.height = `${Math.max(h + m.t + m.b, m.t + 48)}px`;
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
    // Tick labels never collide: on small cells the font shrinks to the cell (8 px at least), and
    // when even that is too big only every k-th label is written.
    const tickPx = Math.min(L.tick, Math.max(8, Math.floor(cell * 0.95)));
    const every = Math.max(1, Math.ceil((tickPx * 1.05) / cell));
    const axis = (n, labels, wide, size = tickPx, k = every) => {
      if (labels) {
        const keep = labels.map((_, i) => i).filter((i) => i % k === 0);
        return ticksAt(n, size, keep, (i) => labels[i]);
      }
      // whole-number ticks at a round step that leaves each room for its digits (every cell when
      // they fit); small maps write them smaller
      const font = n * cell >= 60 ? L.tick : Math.max(8, Math.min(L.tick, Math.floor(cell * 0.95)));
      const need = font * (wide ? 0.62 * String(n - 1).length + 0.5 : 1.8);
      const step = NICE.find((v) => v * cell >= need) ?? n;
      const vals = [];
      for (let i = 0; i < n; i += step) vals.push(i);
      return ticksAt(n, font, vals, String);
    };
    const longest = (labels) => Math.max(0, ...labels.map((t) => String(t).length));
    const px = tickPx * 0.62; // about one tick character's width
    const tilt = colLabels && longest(colLabels) * px > cell * every;
    // tilted by 45°, neighbouring labels' lines are only cell·sin 45° apart: smaller type for them
    // (8 px at least), and only every k-th label when even that would touch
    const xPx = tilt ? Math.min(tickPx, Math.max(8, Math.floor((cell * Math.SQRT1_2) / 1.05))) : tickPx;
    const xEvery = tilt ? Math.max(1, Math.ceil((xPx * 1.05) / (cell * Math.SQRT1_2))) : every;
    const m = {
      ...L.margin,
      // as wide as the row numbers need (the labels' own width when named), no wider
      l: rowLabels
        ? Math.max(L.margin.l, px * longest(rowLabels) + 12)
        : Math.ceil(0.62 * L.tick * String(Math.max(0, rows - 1)).length) + 14,
      b: tilt ? Math.max(L.margin.b, 0.75 * 0.62 * xPx * longest(colLabels) + 12) : L.margin.b,
    };
    // the colour bar lives in the right margin, so Plotly's frame (and its title) spans it too
    this.barWidth = this.opts.colorbar ? colorbarWidth(this.octx, -88.8, 88.8, true, L.tick, L.bar) : 0;
    m.r = Math.max(m.r, this.barWidth);
    const bare = this.opts.axes === false;
    if (bare) Object.assign(m, { l: 2, t: 2, b: 2, r: Math.max(2, this.barWidth) });
    this.margin = m;
    // the title fits above the map and its colour bar: smaller type for a long title on a small map;
    // a small multiple's title may start over its row labels (opts.titleOverTicks), for more room
    const over = Boolean(this.opts.titleOverTicks);
    const room = w + m.r - 4 + (over ? m.l : 0);
    const titlePx = Math.max(9, Math.min(L.title, Math.floor(room / (0.56 * Math.max(1, (title || '').length)))));
    const layout = {
      width: w + m.l + m.r,
      height: h + m.t + m.b,
      margin: { ...m, pad: 0 },
      title: {
        text: bare ? '' : title || '',
        font: { size: titlePx },
        x: 0,
        xanchor: 'left',
        xref: over ? 'container' : 'paper',
        y: 1,
        yanchor: 'bottom',
        yref: 'paper',
        pad: { b: 6 },
      },
      xaxis: {
        ...axis(cols, colLabels, true, xPx, xEvery),
        side: 'bottom',
        ...(tilt ? { tickangle: -45 } : {}),
        ...(bare ? NO_TICKS : {}),
      },
      yaxis: { ...axis(rows, rowLabels, false), range: [rows - 0.5, -0.5], ...(bare ? NO_TICKS : {}) },
      paper_bgcolor: 'rgba(0,0,0,0)',
      plot_bgcolor: 'rgba(0,0,0,0)',
      showlegend: false,
    };
    this._frame(layout);
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
    this._size();
  }

  // Plotly's frame (title, axes, ticks) around the cells: now when Plotly.js is there, else once it
  // is, after the canvas painted in this task is on screen (the newest layout then).
  _frame(layout) {
    this.frameLayout = layout;
    if (window.Plotly && !this.framePending) {
      window.Plotly.react(this.plot, FRAME_DATA, layout, FRAME_CONFIG);
      return;
    }
    if (this.framePending) return;
    this.framePending = true;
    whenPlotlyAfterPaint().then((P) => {
      this.framePending = false;
      P.react(this.plot, FRAME_DATA, this.frameLayout, FRAME_CONFIG);
    });
  }

  // The numbers written on the cells: one precision for the map (format.js mapLabels), at the
  // biggest font the widest label allows inside its cell; none at all when they would not fit at
  // a readable size (normal view 9 px, presenter view 13 px): then they are on hover and in the text.
  _labelling(L) {
    const none = { fontPx: 0, texts: null };
    const readable = L.on ? 13 : 9;
    // cells too small for even the largest font: no labels to make (a 256x256 map would make 65,536)
    if (this.opts.numbers === false || !this.values || L.fontPx(this.cell) < readable) return none;
    const n = Math.min(this.filled, this.rows * this.cols);
    const g = this.octx;
    // the usual precision, or one decimal fewer when that is what lets the numbers fit
    for (const fewer of [0, 1]) {
      const texts = mapLabels(this.values, n, fewer);
      let px = L.fontPx(this.cell);
      g.font = `${L.fontWeight}${px}px system-ui, sans-serif`;
      let widest = 0;
      for (const t of texts) widest = Math.max(widest, g.measureText(t).width);
      if (widest > 0) px = Math.min(px, Math.floor((px * (this.cell - 4)) / widest));
      px = Math.min(px, Math.floor((this.cell - 2) / 1.2)); // the line's height fits the cell too
      if (px >= readable) return { fontPx: px, texts };
    }
    return none;
  }

  _drawOverlay() {
    const { octx: g, cell, rows, cols } = this;
    const L = look();
    g.clearRect(0, 0, cols * cell, rows * cell);
    const { fontPx, texts } = this._labelling(L);
    this.drawn = { presenter: L.on, cell, fontPx, gridWidth: L.gridWidth(cell), tickPx: L.tick, labels: [] };
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
    if (texts) {
      g.font = `${L.fontWeight}${fontPx}px system-ui, sans-serif`;
      g.textAlign = 'center';
      g.textBaseline = 'middle';
      for (let i = 0; i < texts.length; i++) {
        const r = Math.floor(i / cols),
          c = i % cols;
        const w = g.measureText(texts[i]).width;
        g.fillStyle = textColour(this.lut, this.values[i], this.lo, this.hi);
        g.fillText(texts[i], c * cell + cell / 2, r * cell + cell / 2 + 0.5);
        // the label's box in the plot area (x, y, width, height), for the legibility tests
        this.drawn.labels.push([c * cell + (cell - w) / 2, r * cell + (cell - 1.2 * fontPx) / 2, w, 1.2 * fontPx]);
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
    const v = i < this.filled ? fmt(this.values[i], 6) : 'not computed yet';
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
