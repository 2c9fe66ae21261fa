// The attention maps: embeddings, weights, Q/K/V, one head's stages, every head's weights,
// the concatenation, W_O and the output. Display only: every number arrives from the engine.

import { MapView, extent as range } from '../mapview.js';
import { col, fitFigure, fixed, map, row } from '../figure.js';
import { narrow, roomBelow, setCell } from '../room.js';
import { drawMaskKey, maskHighlights } from './mask.js';
import { fitPlane } from './detail.js';

const OPTS = { target: 200, maxCell: 36, numbers: true };
const views = {};
let headMaps = [];
let maskShown = false; // whether the mask drawn has −∞ cells (its key dims the −∞ entry when not)

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
  add('att-row-head', 'att-scores');
  add('att-row-head', 'att-scaled');
  // the mask is 0 or −∞, nothing between: its key names the two instead of a colour bar
  const fig = document.createElement('figure');
  fig.className = 'att-mask-fig';
  $('att-row-head').append(fig);
  const key = document.createElement('canvas');
  key.id = 'att-mask-key';
  key.className = 'colorbar att-mask-key';
  key.setAttribute('role', 'img');
  key.setAttribute('aria-label', 'mask key: white cells add 0, dark cells add −∞');
  const box = document.createElement('div');
  fig.append(box, key);
  views['att-mask'] = new MapView(box, { id: 'att-mask', ...OPTS, colorbar: false, signed: true });
  add('att-row-head', 'att-weights');
  add('att-head-out-box', 'att-head-out');
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
  const mask = res.heads.mask[h];
  const masked = mask.some((r) => r.includes(null));
  views['att-mask'].setData(flat(mask), mask.length, mask[0].length, {
    lo: -1,
    hi: 1,
    title: masked ? 'Mask' : 'Mask: none',
    rowLabels: toks,
    colLabels: toks,
  });
  draw(views['att-weights'], res.heads.weights[h], 'Softmax', toks, toks);
  // a one- or two-column output (8 or 4 heads) has room for a short title only
  draw(views['att-head-out'], res.heads.output[h], dk > 2 ? 'Weights·V' : 'W·V', toks, cols);
  const all = Array.from({ length: res.tokens.length }, (_, i) => i);
  const row = { rows: [q], cols: all, fill: null };
  for (const id of ['att-scores', 'att-scaled', 'att-weights']) views[id].setHighlights([row]);
  views['att-mask'].setHighlights([...maskHighlights(mask), row]);
  maskShown = masked;
  drawMaskKey($('att-mask-key'), masked);
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

const px = (el, prop) => Number.parseFloat(getComputedStyle(el)[prop]) || 0;

// The step: the four maps from QKᵀ to the softmax weights on one line, under them one query's
// softmax written out, the plane of its weighted sum and the Weights·V map (arrangement 'two');
// or all five maps on one line over the table and the plane ('one'), whichever gives the bigger
// cells while the whole step fits the first screen. The plane takes the room the second line
// leaves. A phone scrolls: there the maps fit the width only.
function fitStep() {
  const line1 = $('att-row-head'),
    line2 = $('att-row-head2');
  const outBox = $('att-head-out-box');
  const width = line1.clientWidth - 2;
  const gap1 = px(line1, 'columnGap') || GAP,
    gap2 = px(line2, 'columnGap') || GAP;
  const vgap = px(line1, 'marginBottom') + px(line2, 'marginTop');
  const sums = document.querySelector('.att-sums');
  const table = $('att-softmax').getBoundingClientRect();
  const tableBox = fixed(table.width, table.bottom - sums.getBoundingClientRect().top);
  const planeHead =
    $('att-plane').getBoundingClientRect().top - $('att-plane').parentElement.getBoundingClientRect().top;
  const planeMin = narrow() ? 0 : 200;
  const planeBox = fixed(planeMin, planeMin + planeHead);
  const key = $('att-mask-key');
  drawMaskKey(key, maskShown); // its type follows presenter view
  const mask = col([map(views['att-mask']), fixed(key.offsetWidth, key.offsetHeight)], 2);
  const four = [map(views['att-scores']), map(views['att-scaled']), mask, map(views['att-weights'])];
  const out = map(views['att-head-out']);
  if (narrow()) {
    // one cell for every map, the widest fitting the width
    fitFigure({ col: col([...four, out]) }, { width, height: Number.POSITIVE_INFINITY }, 48);
    line2.append(outBox);
    fitPlane(Math.min(width, 380), 300);
    return;
  }
  const height = Math.max(120, roomBelow(line1) - 8);
  const best = fitFigure(
    {
      two: col([row(four, gap1), row([tableBox, planeBox, out], gap2)], vgap),
      one: col([row([...four, out], gap1), row([tableBox, planeBox], gap2)], vgap),
    },
    { width, height },
    64,
  );
  (best?.name === 'one' ? line1 : line2).append(outBox);
  // the plane: the width the second line leaves, the height down to the bottom of the screen
  const used = [...line2.children]
    .filter((el) => !el.classList.contains('att-plane-box') && el.getClientRects().length)
    .reduce((sum, el) => sum + el.getBoundingClientRect().width + gap2, 0);
  const room = window.innerHeight - line2.getBoundingClientRect().top - window.scrollY - planeHead - 6;
  const planeW = Math.max(planeMin, Math.min(line2.clientWidth - used - 4, 1.3 * room));
  fitPlane(planeW, Math.max(planeMin, Math.min(room, planeW)));
}

// The step fills the first screen; the other rows, below the fold, fill the width at up to most of a screen.
export function fitMaps() {
  fitStep();
  fitStep(); // once drawn at their new size the maps' frames (ticks, colour bars) are known exactly
  const screen = 0.75 * window.innerHeight;
  // X on a line of its own, the weight matrices two to a line: big enough to carry their numbers
  fitRow('att-row-inputs', ['att-x'], screen);
  fitRow('att-row-inputs', ['att-wq', 'att-wk'], screen);
  setCell(views['att-wv'], views['att-wq'].cell);
  fitRow('att-row-qkv', ['att-q', 'att-k', 'att-v'], screen);
  fitRow('att-heads-maps', headMaps, screen);
  fitRow('att-row-out', ['att-concat', 'att-wo', 'att-output'], screen);
}
