// The attention maps: embeddings, weights, Q/K/V, one head's stages, every head's weights,
// the concatenation, W_O and the output. Display only: every number arrives from the engine.

import { MapView, extent as range } from '../mapview.js';
import { fitFigure, map, row } from '../figure.js';
import { narrow, roomBelow, setCell } from '../room.js';

const OPTS = { target: 200, maxCell: 36, numbers: true };
const views = {};
let headMaps = [];

const $ = (id) => document.getElementById(id);

function add(parent, id, opts = {}) {
  const box = document.createElement('div');
  $(parent).append(box);
  views[id] = new MapView(box, { id, ...OPTS, ...opts });
  return views[id];
}

// JSON nulls (−∞ in a mask) drawn as empty cells.
function flat(matrix) {
  return matrix.flat().map((v) => (v === null ? NaN : v));
}

function extent(values) {
  const r = range(values);
  return r.lo <= r.hi && Number.isFinite(r.lo) ? r : { lo: 0, hi: 1 };
}

export function draw(view, matrix, title, rowLabels, colLabels) {
  const values = flat(matrix);
  view.setData(values, matrix.length, matrix[0].length, { ...extent(values), title, rowLabels, colLabels });
}

// Clicks on the embeddings call onEmbeddingClick(r, c); on a weight map, onWeightClick('W_Q', r, c).
export function init(onEmbeddingClick, onWeightClick) {
  add('att-row-inputs', 'att-x', {
    onCell: (r, c, kind) => {
      if (kind === 'click') onEmbeddingClick(r, c);
    },
  });
  const weight = (name) => ({
    target: 160,
    numbers: 'auto',
    onCell: (r, c, kind) => {
      if (kind === 'click') onWeightClick(name, r, c);
    },
  });
  for (const name of ['Q', 'K', 'V']) add('att-row-inputs', `att-w${name.toLowerCase()}`, weight(`W_${name}`));
  for (const name of ['q', 'k', 'v']) add('att-row-qkv', `att-${name}`);
  for (const name of ['scores', 'scaled', 'mask', 'weights']) add('att-row-head', `att-${name}`);
  add('att-row-head', 'att-head-out');
  add('att-row-out', 'att-concat');
  add('att-row-out', 'att-wo', weight('W_O'));
  add('att-row-out', 'att-output');
  return views;
}

// Token labels: padded tokens marked.
export function tokenLabels(res) {
  const n = res.tokens.length;
  return res.tokens.map((t, i) => (i >= n - res.params.padding ? `${t} ⊘` : t));
}

// Everything that does not depend on the step.
export function drawAll(res) {
  const toks = tokenLabels(res);
  const feats = res.features;
  const dims = feats.map((_, i) => `${i}`);
  draw(views['att-x'], res.embeddings, 'Embeddings X', toks, feats);
  draw(views['att-wq'], res.weights.W_Q, 'W_Q', dims, feats);
  draw(views['att-wk'], res.weights.W_K, 'W_K', dims, feats);
  draw(views['att-wv'], res.weights.W_V, 'W_V', dims, feats);
  draw(views['att-q'], res.q, 'Q = X·W_Qᵀ', toks, dims);
  draw(views['att-k'], res.k, 'K = X·W_Kᵀ', toks, dims);
  draw(views['att-v'], res.v, 'V = X·W_Vᵀ', toks, dims);
  draw(views['att-concat'], res.concat, 'Concat(heads)', toks, dims);
  draw(views['att-wo'], res.weights.W_O, 'W_O', dims, dims);
  draw(views['att-output'], res.output, 'Output = Concat·W_Oᵀ', toks, dims);
  const heads = res.params.heads;
  if (headMaps.length !== heads) {
    for (const m of headMaps) m.destroy();
    headMaps = [];
    for (let h = 0; h < heads; h++) {
      const box = document.createElement('div');
      $('att-heads-maps').append(box);
      headMaps.push(new MapView(box, { id: `att-head-weights-${h}`, ...OPTS, target: heads > 2 ? 150 : 200 }));
    }
  }
  headMaps.forEach((m, h) => draw(m, res.heads.weights[h], `Head ${h + 1} weights`, toks, toks));
}

// One head's stages, the current query's row highlighted.
export function drawHead(res, h, q) {
  const toks = tokenLabels(res);
  const dk = res.params.d_k;
  const cols = Array.from({ length: dk }, (_, i) => `${h * dk + i}`);
  const scale = res.params.scaled ? `÷√${dk}` : '';
  const temp = res.params.temperature !== 1 ? `÷T` : '';
  draw(views['att-scores'], res.heads.scores[h], 'QKᵀ', toks, toks);
  draw(views['att-scaled'], res.heads.scaled[h], `QKᵀ ${scale}${temp}`.trim(), toks, toks);
  draw(views['att-mask'], res.heads.mask[h], 'Mask (· = −∞)', toks, toks);
  draw(views['att-weights'], res.heads.weights[h], 'Softmax weights', toks, toks);
  draw(views['att-head-out'], res.heads.output[h], 'Weights·V', toks, cols);
  const all = Array.from({ length: res.tokens.length }, (_, i) => i);
  const row = { rows: [q], cols: all, fill: null };
  for (const id of ['att-scores', 'att-scaled', 'att-mask', 'att-weights']) views[id].setHighlights([row]);
  views['att-head-out'].setHighlights([{ rows: [q], cols: cols.map((_, i) => i), fill: null }]);
  const chunk = cols.map((c) => Number(c));
  views['att-q'].setHighlights([{ rows: [q], cols: chunk, fill: null }]);
  views['att-k'].setHighlights([{ rows: all, cols: chunk, fill: 'rgba(255,176,0,0.10)', colour: 'rgba(0,0,0,0)' }]);
  views['att-v'].setHighlights([{ rows: all, cols: chunk, fill: 'rgba(255,176,0,0.10)', colour: 'rgba(0,0,0,0)' }]);
  headMaps.forEach((m, i) => m.setHighlights(i === h ? [row] : []));
}

const GAP = 18; // px: a row's column gap when the style cannot be read

// One row of maps as big as its width and `height` allow, one cell size for all of them.
function fitRow(id, ids, height) {
  const el = $(id);
  const gap = Number.parseFloat(getComputedStyle(el).columnGap) || GAP;
  const maps = ids.map((m) => (typeof m === 'string' ? views[m] : m)).filter(Boolean);
  fitFigure(
    {
      row: row(
        maps.map((v) => map(v)),
        gap,
      ),
    },
    { width: el.clientWidth - 2, height },
    64,
  );
}

// The step's maps fill the width above the written-out softmax and the plane (both kept on the
// first screen); the other rows, below the fold, fill the width at up to most of a screen.
export function fitMaps() {
  // what must show under the maps: the softmax table and the plane (their notes may fall below)
  const top = document.querySelector('.att-detail').getBoundingClientRect().top;
  const bottoms = ['att-softmax', 'att-plane'].map((id) => $(id).getBoundingClientRect().bottom);
  const below = Math.max(...bottoms) - top + 12;
  const stepRoom = narrow() ? 0.8 * window.innerHeight : Math.max(120, roomBelow($('att-row-head'), below) - 8);
  fitRow('att-row-head', ['att-scores', 'att-scaled', 'att-mask', 'att-weights', 'att-head-out'], stepRoom);
  const screen = 0.75 * window.innerHeight;
  // X on a line of its own, the weight matrices two to a line: big enough to carry their numbers
  fitRow('att-row-inputs', ['att-x'], screen);
  fitRow('att-row-inputs', ['att-wq', 'att-wk'], screen);
  setCell(views['att-wv'], views['att-wq'].cell);
  fitRow('att-row-qkv', ['att-q', 'att-k', 'att-v'], screen);
  fitRow('att-heads-maps', headMaps, screen);
  fitRow('att-row-out', ['att-concat', 'att-wo', 'att-output'], screen);
}
