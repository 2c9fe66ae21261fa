// The trained model's maps: the selected head's attention weights drawn large, every layer and head's
// as a small captioned thumbnail (click one to select it), the selected head's values and weighted
// values, one token's residual stream, and the editable token embeddings and head weights. Display
// only: every number arrives from the engine.

import { MapView, extent } from '../mapview.js';
import { colorbarWidth, drawColorbar } from '../colorbar.js';
import { SCALE, presenter } from '../classroom/mode.js';
import { fmt } from '../format.js';
import { col, fitFigure, fixed, map, row } from '../figure.js';
import { narrow, roomBelow } from '../room.js';

const views = {};
let grid = []; // grid[layer][head]: the thumbnails
let big = null; // the selected head, drawn large
const $ = (id) => document.getElementById(id);
const GAP = 12; // px between the weighted values' maps (as .tf-values .tf-row's gap)
const MIN_VALUE_CELL = 6; // px: smaller value cells are not worth keeping on the first screen
const THUMB = 0.45; // a thumbnail's cell, as a share of the big map's
const THUMB_GAP = 10; // px between thumbnails (as .tf-grid's column gap): their captions never touch

function add(parent, id, opts = {}) {
  const box = document.createElement('div');
  (typeof parent === 'string' ? $(parent) : parent).append(box);
  views[id] = new MapView(box, { id, target: 200, maxCell: 36, numbers: 'auto', ...opts });
  return views[id];
}

// A matrix (rows of numbers; null, a masked −∞, drawn empty) with its title and tick labels.
// range: the colour scale's {lo, hi} (the data's own by default).
function draw(view, matrix, title, rowLabels, colLabels, range = null) {
  const values = matrix.flat().map((v) => (v === null ? NaN : v));
  const r = range || extent(values);
  view.setData(values, matrix.length, matrix[0].length, { ...r, title, rowLabels, colLabels });
}

const dims = (n, from = 0) => Array.from({ length: n }, (_, i) => `${from + i}`);

// onPick(layer, head) when a thumbnail is clicked; onEdit({param, row, col, label, value}) for a cell.
// roles: "layer-head" -> what that head was measured to do ("induction"), named in its title.
let named = {};
const headName = (l, h) => `L${l} H${h}${named[`${l}-${h}`] ? ` ${named[`${l}-${h}`]}` : ''}`;

// A thumbnail: its caption (a button: "L1 H0" over its job) above its cells alone, the whole clickable.
function thumbnail(l, h, onPick) {
  const thumb = document.createElement('div');
  thumb.className = 'tf-thumb';
  thumb.dataset.head = `${l}-${h}`;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'tf-thumb-title';
  const role = named[`${l}-${h}`];
  button.innerHTML = `<span>L${l} H${h}</span><span class="tf-role">${role || '\u00a0'}</span>`;
  button.setAttribute('aria-label', `Show ${headName(l, h)} large`);
  thumb.append(button);
  $('tf-grid').append(thumb);
  thumb.addEventListener('click', () => onPick(l, h));
  // one scale, 0 to 1, for every head (the grid's one bar, drawGridScale): no bar, ticks or title of its own
  return add(thumb, `tf-head-${l}-${h}`, { target: 70, numbers: false, signed: false, colorbar: false, axes: false });
}

export function init(config, roles, onPick, onEdit) {
  named = roles;
  $('tf-grid').style.gridTemplateColumns = `repeat(${config.n_heads}, auto)`;
  big = add('tf-big', 'tf-head', { target: 260, signed: false, colorbar: false });
  grid = Array.from({ length: config.n_layers }, (_, l) =>
    Array.from({ length: config.n_heads }, (_, h) => thumbnail(l, h, onPick)),
  );
  for (const [id, area] of [
    ['tf-v', 'v'],
    ['tf-weighted', 'w'],
    ['tf-out', 'out'],
  ]) {
    // one scale for the three (one bar, drawValuesScale): a weight's shrinking shows
    add('tf-row-values', id, { colorbar: false }).el.style.gridArea = area;
  }
  add('tf-row-resid', 'tf-resid', { target: 520 });
  const cell = (name, toCell) => ({
    target: 300,
    onCell: (r, c, kind) => {
      if (kind === 'click') onEdit(toCell(name, r, c));
    },
  });
  add(
    'tf-row-edit',
    'tf-emb',
    cell('tok_emb', (_, r, c) => views['tf-emb'].editAt(r, c)),
  );
  for (const name of ['W_Q', 'W_K', 'W_V']) {
    add(
      'tf-row-edit',
      `tf-${name}`,
      cell(name, (n, r, c) => views[`tf-${n}`].editAt(r, c)),
    );
  }
  return views;
}

// Everything that does not depend on the query: the grid, the embeddings and the head's weights.
export function drawAll(res) {
  const toks = res.tokens;
  const { layer, head } = res.params;
  // one scale, 0 to 1, for every head: their weights compare at a glance
  draw(big, res.attention[layer][head], headName(layer, head), toks, toks, { lo: 0, hi: 1 });
  grid.forEach((heads, l) => {
    heads.forEach((v, h) => {
      const chosen = l === layer && h === head;
      draw(v, res.attention[l][h], headName(l, h), toks, toks, { lo: 0, hi: 1 });
      const thumb = v.el.parentElement;
      thumb.classList.toggle('tf-chosen', chosen); // outlined: the head drawn large, in the table and values
      thumb.querySelector('button').setAttribute('aria-pressed', String(chosen));
    });
  });
  drawGridScale();
  const d = res.config.d_model;
  draw(views['tf-emb'], res.embeddings, 'Token embeddings (tok_emb rows)', toks, dims(d));
  views['tf-emb'].editAt = (r, c) => ({
    param: 'tok_emb.weight',
    row: res.ids[r],
    col: c,
    label: `tok_emb[“${toks[r]}”, ${c}]`,
    value: res.embeddings[r][c],
  });
  const w = res.weights;
  for (const name of ['W_Q', 'W_K', 'W_V']) {
    const start = w.starts[name];
    const view = views[`tf-${name}`];
    draw(view, w[name], `${name} of L${layer} H${head}`, dims(w[name].length, start), dims(d));
    view.editAt = (r, c) => ({
      param: w.param,
      row: start + r,
      col: c,
      label: `${name}[${start + r}, ${c}] (blocks.${layer}.attn.in_proj_weight)`,
      value: w[name][r][c],
    });
  }
}

// The query's parts: its row highlighted in every small map, its weighted values, its residual stream.
export function drawQuery(res, q) {
  const toks = res.tokens;
  const all = toks.map((_, j) => j);
  const highlight = [{ rows: [q], cols: all, fill: null }];
  big.setHighlights([{ rows: [q], cols: all, fill: null, width: 2 }]); // the query's row, as in the table
  for (const heads of grid) for (const v of heads) v.setHighlights(highlight);
  const hd = res.head;
  const cols = undefined; // the d_k dimensions: whole-number ticks, at a step that leaves them room
  // V's range with 0: every wⱼ·vⱼ lies between 0 and vⱼ, and their sum (weights summing to 1) within
  // V's range, so one scale is honest for the three
  const { lo, hi } = extent(hd.v.flat());
  const range = { lo: Math.min(0, lo), hi: Math.max(0, hi) };
  draw(views['tf-v'], hd.v, 'Values V', toks, cols, range);
  draw(views['tf-weighted'], hd.weighted[q], `wⱼ·vⱼ for “${toks[q]}”`, toks, cols, range);
  draw(views['tf-out'], [hd.out[q]], `Σⱼ wⱼ·vⱼ`, [toks[q]], cols, range);
  drawValuesScale();
  const r = res.residual;
  const labels = r.stages.map((s, i) => `${s} ‖${r.norms[i][q].toFixed(2)}‖`);
  draw(
    views['tf-resid'],
    r.vectors.map((stage) => stage[q]),
    `Residual stream of “${toks[q]}” (position ${q})`,
    labels,
    dims(res.config.d_model),
  );
}

// One colour bar for a group of maps on one scale (`first`'s, as painted), in the `.tf-scale` box
// `scale`: its ends level with the top of `first`'s cells and the bottom of `last`'s, its numbers at
// the maps' tick size.
function drawScale(scale, first, last, what) {
  if (!first.values) return;
  const on = presenter();
  const fontPx = Math.round(10 * (on ? SCALE.font : 1)); // the maps' tick labels' size (mapview look)
  const barPx = on ? 16 : 12;
  const canvas = scale.querySelector('canvas');
  const { lo, hi, signed, lut } = first;
  const width = colorbarWidth(canvas.getContext('2d'), lo, hi, signed, fontPx, barPx);
  const top = first.overlay.getBoundingClientRect().top;
  const height = Math.max(48, last.overlay.getBoundingClientRect().bottom - top + fontPx);
  scale.style.paddingTop = '0px';
  scale.style.paddingTop = `${Math.max(0, top - scale.getBoundingClientRect().top - fontPx / 2)}px`;
  drawColorbar(canvas, { lut, lo, hi, signed, fontPx, width, height, barPx });
  scale.classList.add('drawn');
  canvas.setAttribute('aria-label', `colour scale of ${what}: ${fmt(lo, 3)} to ${fmt(hi, 3)}`);
}

const drawGridScale = () => drawScale($('tf-scale'), big, big, 'the selected head and every thumbnail');
const drawValuesScale = () =>
  drawScale($('tf-values-scale'), views['tf-v'], views['tf-out'], 'V, the weighted values and their sum');

// The step's layout: wide (the grid on the left, the table and the next words beside it, the
// weighted values under those two) when the grid keeps a useful width beside them, else one column.
// Returns whether it is wide and the grid's width.
let tableWidth = 0; // the table's width the step was laid out for
function layout() {
  const step = $('tf-step');
  const gap = parseFloat(getComputedStyle(step).columnGap) || 0;
  const side = parseFloat(getComputedStyle($('tf-side')).minWidth) || 0;
  tableWidth = $('tf-softmax').offsetWidth;
  const room = step.clientWidth - tableWidth - side - 2 * gap - 2;
  const wide = !narrow() && room >= 280;
  step.classList.toggle('tf-wide', wide);
  return { wide, width: wide ? room : step.clientWidth - 2 };
}

// Another query's table may be wider (longer numbers): then the step is laid out again.
export const tableGrew = () => tableWidth > 0 && $('tf-softmax').offsetWidth > tableWidth;

// The big map, the thumbnails under it and the bar fill the room their column leaves down to the
// bottom of the first screen (phones scroll: there the width only). A thumbnail is as wide as its
// caption at least.
function fitGrid(width) {
  const box = $('tf-grid-box');
  const thumbs = grid.map((heads) =>
    row(
      heads.map((v) => {
        const caption = v.el.parentElement.querySelector('button');
        return col([fixed(caption.offsetWidth, caption.offsetHeight), map(v, THUMB)], 0);
      }),
      THUMB_GAP,
    ),
  );
  const maps = col([map(big), col(thumbs, 6)], 8);
  const tree = row([maps, fixed($('tf-scale').offsetWidth, 0)], 6);
  const title = $('tf-grid-title').offsetHeight;
  const height = narrow() ? Number.POSITIVE_INFINITY : Math.max(160, roomBelow(box) - title - 12);
  fitFigure({ grid: tree }, { width, height }, 44);
  drawGridScale();
}

// The weighted values fill the room under the table and the next words (wide), else the width:
// V beside w·v with their sum under it, or the three in a column (the CSS grid's areas follow).
function fitValues(wide) {
  const box = $('tf-row-values');
  const [v, w, out] = ['tf-v', 'tf-weighted', 'tf-out'].map((id) => map(views[id]));
  const bar = fixed($('tf-values-scale').offsetWidth, 0);
  const fit = (height) =>
    fitFigure(
      { side: row([v, col([w, out], GAP), bar], GAP), column: row([col([v, w, out], GAP), bar], GAP) },
      { width: box.clientWidth - 2, height },
      28,
    );
  const scroll = 0.6 * window.innerHeight;
  let arrangement = fit(wide ? Math.max(100, roomBelow(box) - 8) : scroll);
  // a long sentence's table leaves them no room on the first screen: then readable below it, the
  // whole step still within one screen under a lesson's bar (sticky) once scrolled to
  if (arrangement.c < MIN_VALUE_CELL) {
    const bar = document.querySelector('.lesson-bar');
    const above = box.getBoundingClientRect().top - $('tf-step').getBoundingClientRect().top;
    const screen = window.innerHeight - (bar ? bar.offsetHeight : 0) - above - 8;
    arrangement = fit(wide ? Math.max(100, Math.min(scroll, screen)) : scroll);
  }
  box.dataset.arrangement = arrangement.name;
  drawValuesScale();
}

// Refit the step, then the rows below it, to the stage's width.
export function fitRows() {
  // twice: once drawn at their new size the maps' frames (ticks, labels) are known exactly
  for (let i = 0; i < 2; i++) {
    const { wide, width } = layout();
    fitGrid(width);
    fitValues(wide);
    fitBelow();
  }
}

function fitBelow() {
  for (const [id, ids] of [
    ['tf-row-resid', ['tf-resid']],
    ['tf-row-edit', ['tf-emb']],
    ['tf-row-edit', ['tf-W_Q', 'tf-W_K', 'tf-W_V']],
  ]) {
    const el = $(id);
    fitFigure(
      { row: row(ids.map((m) => map(views[m]))) },
      { width: el.clientWidth - 2, height: 0.6 * window.innerHeight },
      28,
    );
  }
}
