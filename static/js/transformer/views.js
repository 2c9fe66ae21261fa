// The trained model's maps: every layer and head's attention weights (small multiples, click one to
// select it), the selected head's values and weighted values, one token's residual stream, and the
// editable token embeddings and head weights. Display only: every number arrives from the engine.

import { MapView, extent } from '../mapview.js';
import { col, fitFigure, map, row } from '../figure.js';
import { narrow, roomBelow } from '../room.js';

const views = {};
let grid = []; // grid[layer][head]
const $ = (id) => document.getElementById(id);

function add(parent, id, opts = {}) {
  const box = document.createElement('div');
  $(parent).append(box);
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

// onPick(layer, head) when a small map is clicked; onEdit({param, row, col, label, value}) for a cell.
// roles: "layer-head" -> what that head was measured to do ("induction"), named in its title.
let named = {};
export function init(config, roles, onPick, onEdit) {
  named = roles;
  $('tf-grid').style.gridTemplateColumns = `repeat(${config.n_heads}, auto)`;
  grid = Array.from({ length: config.n_layers }, (_, l) =>
    Array.from({ length: config.n_heads }, (_, h) =>
      add('tf-grid', `tf-head-${l}-${h}`, {
        target: 150,
        numbers: false,
        onCell: (_r, _c, kind) => {
          if (kind === 'click') onPick(l, h);
        },
      }),
    ),
  );
  add('tf-row-values', 'tf-v');
  add('tf-row-values', 'tf-weighted');
  add('tf-row-values', 'tf-out');
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
  grid.forEach((heads, l) => {
    heads.forEach((v, h) => {
      const chosen = l === layer && h === head;
      // one scale, 0 to 1, for every head: their weights compare at a glance
      const role = named[`${l}-${h}`] ? ` ${named[`${l}-${h}`]}` : '';
      draw(v, res.attention[l][h], `L${l} H${h}${role}${chosen ? ' ◀' : ''}`, toks, toks, { lo: 0, hi: 1 });
      v.el.classList.toggle('tf-chosen', chosen);
    });
  });
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
  for (const heads of grid) for (const v of heads) v.setHighlights(highlight);
  const hd = res.head;
  const dk = hd.d_k;
  const cols = dims(dk);
  draw(views['tf-v'], hd.v, 'Values V', toks, cols);
  draw(views['tf-weighted'], hd.weighted[q], `wⱼ·vⱼ for “${toks[q]}”`, toks, cols);
  draw(views['tf-out'], [hd.out[q]], `Σⱼ wⱼ·vⱼ`, [toks[q]], cols);
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

// The small multiples fill the room their box leaves down to the bottom of the first screen.
export function fitGrid() {
  const box = $('tf-grid');
  const tree = col(
    grid.map((heads) =>
      row(
        heads.map((v) => map(v)),
        6,
      ),
    ),
    4,
  );
  const height = narrow() ? Number.POSITIVE_INFINITY : Math.max(160, roomBelow(box) - 8);
  fitFigure({ grid: tree }, { width: box.parentElement.clientWidth - 2, height }, 30);
}

// The rows below the step fill the stage's width.
export function fitRows() {
  fitGrid();
  fitBelow();
  fitBelow(); // once drawn at their new size the maps' frames (ticks, labels) are known exactly
}

function fitBelow() {
  for (const [id, ids] of [
    ['tf-row-values', ['tf-v', 'tf-weighted', 'tf-out']],
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
