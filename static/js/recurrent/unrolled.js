// The sequence unrolled: a row of cells per direction (the current one outlined), and heatmaps of
// the input, of every layer's states over time and of the output, the current step's column
// highlighted. Display only: every value is a stage of /api/recurrent/run.

import { MapView } from '../mapview.js';

const NS = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);
let views = {};
let shape = '';

// (T, n) rows -> the (n, T) picture: one row per unit, one column per time step.
function byUnit(rows) {
  const n = rows[0].length,
    t = rows.length;
  const out = new Array(n * t);
  rows.forEach((row, c) =>
    row.forEach((v, r) => {
      out[r * t + c] = v;
    }),
  );
  return { values: out, rows: n, cols: t };
}

function extent(values) {
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return { lo: -m, hi: m };
}

function show(id, rows, title, rowLabels, colLabels) {
  const { values, rows: n, cols } = byUnit(rows);
  views[id].setData(values, n, cols, { ...extent(values), title, rowLabels, colLabels });
}

// The maps this answer needs, as [id, title, stage name or 'input' / 'output', row labels].
function mapList(res) {
  const p = res.params;
  const list = [['rnn-x', 'input x', 'input']];
  for (let l = 0; l < p.num_layers; l++) {
    for (const dir of p.directions) {
      const name = `${p.num_layers > 1 ? `layer ${l + 1}, ` : ''}${p.bidirectional ? `${dir} ` : ''}`;
      list.push([`rnn-h-l${l}-${dir}`, `${name}h`, `l${l}.${dir}.h`]);
      if (res.kind === 'lstm') list.push([`rnn-c-l${l}-${dir}`, `${name}c (cell state)`, `l${l}.${dir}.c`]);
    }
  }
  if (p.bidirectional) list.push(['rnn-out', 'output = [forward; reverse]', 'output']);
  return list;
}

export function drawMaps(res) {
  const list = mapList(res);
  const key = list.map(([id]) => id).join(',');
  if (key !== shape) {
    for (const v of Object.values(views)) v.destroy();
    views = {};
    shape = key;
    for (const [id] of list) {
      const box = document.createElement('div');
      $('rnn-maps').append(box);
      views[id] = new MapView(box, { id, target: 150, maxCell: 34, numbers: 'auto' });
    }
  }
  const times = res.words ? res.labels : res.labels.map((_, t) => String(t + 1));
  for (const [id, title, stage] of list) {
    const rows = stage === 'input' ? res.input : stage === 'output' ? res.output : res.stages[stage];
    const units = id === 'rnn-x' ? res.features : rows[0].map((_, j) => String(j));
    show(id, rows, title, units, times);
  }
}

// Outline the column of step i in the maps of its layer and direction (and in x and the output).
export function highlightMaps(res, i) {
  const s = res.steps;
  const l = s.layer[i],
    dir = res.params.directions[s.direction[i]],
    t = s.time[i];
  const col = (view) => ({ rows: Array.from({ length: view.rows }, (_, r) => r), cols: [t], fill: null });
  for (const [id, view] of Object.entries(views)) {
    const mine =
      id.endsWith(`-l${l}-${dir}`) ||
      (id === 'rnn-x' && l === 0) ||
      (id === 'rnn-out' && l === res.params.num_layers - 1);
    view.setHighlights(mine ? [col(view)] : []);
  }
}

function node(name, attrs = {}, text = null) {
  const n = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== null) n.textContent = text;
  return n;
}

// One row of boxes per direction of step i's layer, arrows the way the state travels.
export function drawChain(res, i) {
  const s = res.steps;
  const p = res.params;
  const T = p.seq_len;
  const w = Math.max(38, Math.min(64, 880 / T));
  const rowH = 46;
  const left = 84;
  const width = left + T * w + 10;
  const height = p.directions.length * rowH + 24;
  const svg = node('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'figure',
    'aria-label': `The layer unrolled through ${T} time steps, step ${i + 1} current`,
  });
  p.directions.forEach((dir, d) => {
    const y = 6 + d * rowH;
    svg.append(node('text', { x: 4, y: y + 20, class: 'name' }, dir === 'forward' ? 'forward →' : '← reverse'));
    for (let t = 0; t < T; t++) {
      const current = s.direction[i] === d && s.time[i] === t;
      const x = left + t * w;
      svg.append(
        node('rect', {
          x: x + 4,
          y,
          width: w - 14,
          height: 28,
          rx: 5,
          class: current ? 'cellbox current' : 'cellbox',
          'data-dir': dir,
          'data-t': t,
        }),
      );
      svg.append(node('text', { x: x + w / 2 - 3, y: y + 18, 'text-anchor': 'middle', class: 'small' }, String(t + 1)));
      if (t < T - 1) {
        const [x0, x1] = dir === 'forward' ? [x + w - 10, x + w + 4] : [x + w + 4, x + w - 10];
        svg.append(
          node('line', { x1: x0, y1: y + 14, x2: x1, y2: y + 14, class: 'flow', 'marker-end': 'url(#rnn-arrowhead)' }),
        );
      }
    }
  });
  const y = height - 4;
  res.labels.forEach((lab, t) => {
    svg.append(
      node(
        'text',
        { x: left + t * w + w / 2 - 3, y, 'text-anchor': 'middle', class: 'small' },
        lab.length > 7 ? `${lab.slice(0, 6)}…` : lab,
      ),
    );
  });
  $('rnn-chain').replaceChildren(svg);
}
