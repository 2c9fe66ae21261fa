// A trace in a notebook: its output maps with their colour bars and, for conv2d and max_pool2d, a
// stepper through the recorded steps (the window on the input, the kernel, the products and the
// sum, or the window and its winner). Drawn with the pages' colour scales, colour bar and number
// formats; every number comes from the engine, in the data layerlab/notebook.py writes beside it.

import { DIVERGING, GREY, paint, range, textColour } from '../colors.js';
import { colorbarWidth, drawColorbar } from '../colorbar.js';
import { factor, fmt, mapLabels } from '../format.js';

const MAP_PX = 200; // a map's longer side at most, in px
const CELL_PX = 26; // a cell's side at most
const LABEL_PX = 16; // cells from this size carry their number (when it fits at 7 px or more)
const FONT_PX = 11;

// The scale a map is painted with: diverging around 0 when any value is negative, else grey.
function scaleOf(values) {
  let lo = Infinity,
    hi = -Infinity;
  for (const v of values) {
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (lo > hi) lo = hi = 0;
  const signed = lo < 0;
  const [a, b] = range(lo, hi, signed);
  return { lo: a, hi: b, signed, lut: signed ? DIVERGING : GREY };
}

function element(tag, className, parent, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  if (parent) parent.append(el);
  return el;
}

// A map: `grid` {values (row-major), rows, cols}; `marks` cells to outline ([row, col]).
function drawGrid(canvas, grid, scale, marks = []) {
  const { values, rows, cols } = grid;
  const cell = Math.max(1, Math.min(CELL_PX, Math.floor(MAP_PX / Math.max(rows, cols))));
  const dpr = window.devicePixelRatio || 1;
  canvas.width = cols * cell * dpr;
  canvas.height = rows * cell * dpr;
  canvas.style.width = `${cols * cell}px`;
  canvas.style.height = `${rows * cell}px`;
  const cells = document.createElement('canvas');
  cells.width = cols;
  cells.height = rows;
  const image = new ImageData(cols, rows);
  paint(image.data, values, scale.lo, scale.hi, scale.lut);
  cells.getContext('2d').putImageData(image, 0, 0);
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.imageSmoothingEnabled = false;
  g.drawImage(cells, 0, 0, cols * cell, rows * cell);
  const texts = cell >= LABEL_PX ? mapLabels(values) : [];
  let px = Math.min(FONT_PX, Math.floor(cell / 2));
  g.font = `${px}px system-ui, sans-serif`;
  const widest = Math.max(0, ...texts.map((text) => g.measureText(text).width));
  if (widest > cell - 3) px = Math.floor((px * (cell - 3)) / widest); // the widest number fits its cell
  if (texts.length && px >= 7) {
    g.font = `${px}px system-ui, sans-serif`;
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    texts.forEach((text, i) => {
      const v = values[i];
      g.fillStyle = Number.isFinite(v) ? textColour(scale.lut, v, scale.lo, scale.hi) : '#111';
      g.fillText(text, ((i % cols) + 0.5) * cell, (Math.floor(i / cols) + 0.5) * cell);
    });
  }
  // a dark outline with a light one inside: visible on every colour of both scales
  for (const [width, colour, inset] of [
    [3, '#111', 1.5],
    [1, '#fff', 3.5],
  ]) {
    g.lineWidth = width;
    g.strokeStyle = colour;
    const side = Math.max(1, cell - 2 * inset);
    for (const [r, c] of marks) g.strokeRect(c * cell + inset, r * cell + inset, side, side);
  }
}

// A titled map with its colour bar; returns a function that redraws it with new marks.
function figure(parent, title, grid) {
  const box = element('figure', 'll-figure', parent);
  element('figcaption', '', box, title);
  const row = element('div', 'll-row', box);
  const canvas = element('canvas', '', row);
  const bar = element('canvas', '', row);
  const scale = scaleOf(grid.values);
  const draw = (marks) => drawGrid(canvas, grid, scale, marks);
  draw([]);
  const height = Math.max(60, Number.parseFloat(canvas.style.height));
  const width = colorbarWidth(bar.getContext('2d'), scale.lo, scale.hi, scale.signed, FONT_PX);
  drawColorbar(bar, { ...scale, fontPx: FONT_PX, width, height });
  return draw;
}

// The cells a step's window covers on a (possibly strided) input plane.
function windowMarks(rows, cols, every) {
  const marks = [];
  for (const r of rows) for (const c of cols) marks.push([Math.floor(r / every), Math.floor(c / every)]);
  return marks;
}

function stepper(root, count, show) {
  const bar = element('div', 'll-stepper', root);
  const prev = element('button', '', bar, '◀ previous');
  const slider = element('input', '', bar);
  const next = element('button', '', bar, 'next ▶');
  const label = element('span', 'll-label', bar);
  prev.type = next.type = 'button';
  Object.assign(slider, { type: 'range', min: 0, max: count - 1, value: 0 });
  slider.setAttribute('aria-label', 'step');
  const go = (i) => {
    const j = Math.max(0, Math.min(count - 1, i));
    slider.value = String(j);
    prev.disabled = j === 0;
    next.disabled = j === count - 1;
    label.textContent = show(j);
  };
  prev.addEventListener('click', () => go(Number(slider.value) - 1));
  next.addEventListener('click', () => go(Number(slider.value) + 1));
  slider.addEventListener('input', () => go(Number(slider.value)));
  go(0);
}

// conv2d: the window on the input, the kernel and the products; the sum written out.
function convStep(s, j, parts) {
  const [n, o, r, c] = s.index[j];
  const sum = element('div', 'll-sum');
  const terms = s.products[j].flat(2).map((p) => fmt(p));
  const shown = terms.length > 12 ? [...terms.slice(0, 9), '…', ...terms.slice(-3)] : terms;
  sum.textContent =
    `out[${n}, ${o}, ${r}, ${c}] = ${shown.join(' + ')} = ${fmt(s.sum[j])}` +
    (s.has_bias ? ` + bias ${factor(s.bias[j])} = ${fmt(s.result[j])}` : '');
  s.window[j].forEach((w, ch) => figure(parts, `window, channel ${ch}`, s.grid(w)));
  s.weight[o].forEach((w, ch) => figure(parts, `kernel ${o}, channel ${ch}`, s.grid(w)));
  s.products[j].forEach((p, ch) => figure(parts, `products, channel ${ch}`, s.grid(p)));
  return sum;
}

// max_pool2d: the window with its winner outlined; padding shows as empty cells.
function poolStep(s, j, parts) {
  const [n, ch, r, c] = s.index[j];
  const [wr, wc] = s.winner[j];
  const draw = figure(parts, 'window', s.grid(s.window[j]));
  draw([[wr, wc]]);
  return element('div', 'll-sum', undefined, `out[${n}, ${ch}, ${r}, ${c}] = max of the window = ${fmt(s.result[j])}`);
}

export function mountTraceView(root, data) {
  element('div', 'll-head', root, data.title);
  const maps = element('div', 'll-maps', root);
  const outputs = data.maps.map((m) => figure(maps, m.title, m));
  for (const note of data.notes) element('div', 'll-note', root, note);
  const s = data.steps;
  if (!s) return;
  s.grid = (nested) => ({ values: nested.flat(), rows: nested.length, cols: nested[0].length });
  const panel = element('div', 'll-step', root);
  stepper(root, s.index.length, (j) => {
    panel.replaceChildren();
    const [n, ch, r, c] = s.index[j];
    const plane = data.inputs[`${n},${s.kind === 'conv2d' ? 0 : ch}`];
    const parts = element('div', 'll-maps', panel);
    if (plane) {
      const draw = figure(parts, plane.title, plane);
      draw(windowMarks(s.rows[j], s.cols[j], plane.every));
    }
    panel.append((s.kind === 'conv2d' ? convStep : poolStep)(s, j, parts));
    data.maps.forEach((m, k) => {
      outputs[k](m.key === `${n},${ch}` ? [[Math.floor(r / m.every), Math.floor(c / m.every)]] : []);
    });
    return `step ${j + 1} of ${s.index.length} shown (${s.total} in all): output [${n}, ${ch}, ${r}, ${c}]`;
  });
}
