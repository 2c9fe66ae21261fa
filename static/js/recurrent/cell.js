// One cell at one time step as an SVG diagram: the inputs (x_t, h_{t−1}, and c_{t−1} for the LSTM)
// flow into the gates, the gates into the new state, which is handed to the next step. Every value
// is a coloured cell with its number, straight from the step columns of /api/recurrent/run.

import { DIVERGING, textColour } from '../colors.js';
import { fmt, fmtCell } from '../format.js';

const NS = 'http://www.w3.org/2000/svg';
const COL_W = 58;
const GAP = 12;
const ARROW = 70;

// Per kind: the columns of each group, [step field, label, subscript, what it is].
const LAYOUT = {
  rnn: {
    inputs: [
      ['x', 'x', 't', 'the input'],
      ['h_prev', 'h', 't−1', 'the state before'],
    ],
    gates: [['h_pre', 'a', 't', 'W_ih·x_t + b_ih + W_hh·h_{t−1} + b_hh']],
    state: [['h', 'h', 't', 'f(a_t)']],
    into: 'W·[x, h] + b',
    out: 'f',
  },
  lstm: {
    inputs: [
      ['x', 'x', 't', 'the input'],
      ['h_prev', 'h', 't−1', 'the hidden state before'],
      ['c_prev', 'c', 't−1', 'the cell state before'],
    ],
    gates: [
      ['f', 'f', 't', 'forget gate σ'],
      ['i', 'i', 't', 'input gate σ'],
      ['g', 'g', 't', 'candidate tanh'],
      ['o', 'o', 't', 'output gate σ'],
    ],
    state: [
      ['c', 'c', 't', 'f⊙c_{t−1} + i⊙g'],
      ['c_tanh', 'tanh c', 't', 'tanh(c_t)'],
      ['h', 'h', 't', 'o⊙tanh(c_t)'],
    ],
    into: 'σ, tanh',
    out: '⊙, +',
  },
  gru: {
    inputs: [
      ['x', 'x', 't', 'the input'],
      ['h_prev', 'h', 't−1', 'the state before'],
    ],
    gates: [
      ['r', 'r', 't', 'reset gate σ'],
      ['z', 'z', 't', 'update gate σ'],
      ['n', 'n', 't', 'candidate tanh'],
    ],
    state: [['h', 'h', 't', '(1−z)⊙n + z⊙h_{t−1}']],
    into: 'σ, tanh',
    out: 'blend',
  },
};

function el(name, attrs = {}, text = null) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

function label(x, y, name, sub, anchor = 'middle') {
  const t = el('text', { x, y, 'text-anchor': anchor, class: 'name' });
  t.append(name);
  const s = el('tspan', { 'baseline-shift': 'sub', 'font-size': '70%' }, sub);
  t.append(s);
  return t;
}

function colour(v, m) {
  let k = Math.round(((v + m) / (2 * m)) * 255);
  k = (k < 0 ? 0 : Math.min(k, 255)) * 4;
  return `rgb(${DIVERGING[k]},${DIVERGING[k + 1]},${DIVERGING[k + 2]})`;
}

// A column of values: one cell per unit, coloured on [−m, m], its number written in it.
function column(svg, x, y, rowH, values, key, title, m, pre) {
  const g = el('g', { 'data-key': key, class: 'vec' });
  g.append(el('title', {}, title));
  values.forEach((v, j) => {
    const cell = el('g', {});
    cell.append(el('rect', { x, y: y + j * rowH, width: COL_W, height: rowH - 1, fill: colour(v, m), rx: 2 }));
    const size = Math.min(14, rowH * 0.6);
    cell.append(
      el(
        'text',
        {
          x: x + COL_W / 2,
          y: y + j * rowH + rowH / 2,
          'font-size': size,
          'text-anchor': 'middle',
          'dominant-baseline': 'central',
          fill: textColour(DIVERGING, v, -m, m),
          class: 'v',
        },
        fmtCell(v),
      ),
    );
    if (pre) cell.append(el('title', {}, `${title}, unit ${j}: ${fmt(v)} (before the nonlinearity ${fmt(pre[j])})`));
    g.append(cell);
  });
  svg.append(g);
}

function arrow(svg, x0, x1, y, text) {
  svg.append(el('line', { x1: x0, y1: y, x2: x1 - 4, y2: y, class: 'flow', 'marker-end': 'url(#rnn-arrowhead)' }));
  if (text) svg.append(el('text', { x: (x0 + x1) / 2, y: y - 8, 'text-anchor': 'middle', class: 'flow-label' }, text));
}

// Draw step i of the answer `res` into the element `box`.
export function drawCell(box, res, i) {
  const spec = LAYOUT[res.kind];
  const s = res.steps;
  const value = (key) => (key === 'x' ? s.x[i] : s[key][i]);
  const longest = Math.max(...[...spec.inputs, ...spec.gates, ...spec.state].map(([k]) => value(k).length));
  const rowH = Math.max(12, Math.min(26, 210 / longest));
  const top = 46;
  const height = top + longest * rowH + 30;
  let m = 1;
  for (const [k] of [...spec.inputs, ...spec.gates, ...spec.state])
    for (const v of value(k)) m = Math.max(m, Math.abs(v));
  const groups = [
    ['inputs', spec.inputs],
    ['gates', spec.gates],
    ['new state', spec.state],
  ];
  const widthOf = (cols) => cols.length * COL_W + (cols.length - 1) * GAP + 2 * GAP;
  const width = groups.reduce((w, [, cols]) => w + widthOf(cols), 0) + 3 * ARROW + 10;
  const svg = el('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'figure',
    'aria-label': `Inside the ${res.kind.toUpperCase()} cell at step ${i + 1}: its inputs, gates and new state, each number in its box`,
  });
  const defs = el('defs');
  const marker = el('marker', {
    id: 'rnn-arrowhead',
    viewBox: '0 0 10 10',
    refX: 9,
    refY: 5,
    markerWidth: 7,
    markerHeight: 7,
    orient: 'auto-start-reverse',
  });
  marker.append(el('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'head' }));
  defs.append(marker);
  svg.append(defs);
  let x = 4;
  const mid = top + (longest * rowH) / 2;
  groups.forEach(([name, cols], gi) => {
    const w = widthOf(cols);
    svg.append(el('rect', { x, y: 4, width: w, height: height - 8, rx: 8, class: `group group-${gi}` }));
    svg.append(el('text', { x: x + 8, y: 18, class: 'group-name' }, name));
    cols.forEach(([key, nm, sub, title], c) => {
      const cx = x + GAP + c * (COL_W + GAP);
      svg.append(label(cx + COL_W / 2, top - 8, nm, sub));
      const pre = s[`${key}_pre`] ? s[`${key}_pre`][i] : null;
      column(svg, cx, top, rowH, value(key), key, title, m, pre);
    });
    x += w;
    const text = gi === 0 ? spec.into : gi === 1 ? spec.out : 'to step t+1';
    arrow(svg, x + 4, x + ARROW - 4, mid, text);
    x += ARROW;
  });
  svg.append(
    el(
      'text',
      { x: width - ARROW - 4, y: height - 6, class: 'flow-label', 'text-anchor': 'end' },
      `colour scale ±${fmt(m)}`,
    ),
  );
  box.replaceChildren(svg);
}

// "[a, b, c]" with the page's number format.
export function vec(values) {
  return `[${Array.from(values, (v) => fmt(v)).join(', ')}]`;
}

// The state update of step i written out with the engine's numbers.
export function equations(res, i) {
  const s = res.steps;
  if (res.kind === 'lstm') {
    return [
      `c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t = ${vec(s.f[i])} ⊙ ${vec(s.c_prev[i])} + ${vec(s.i[i])} ⊙ ${vec(s.g[i])} = ${vec(s.c[i])}`,
      `h_t = o_t ⊙ tanh(c_t) = ${vec(s.o[i])} ⊙ ${vec(s.c_tanh[i])} = ${vec(s.h[i])}`,
    ];
  }
  if (res.kind === 'gru') {
    return [
      `h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1} = (1 − ${vec(s.z[i])}) ⊙ ${vec(s.n[i])} + ${vec(s.z[i])} ⊙ ${vec(s.h_prev[i])} = ${vec(s.h[i])}`,
      `n_t = tanh(W_in·x_t + b_in + r_t ⊙ (W_hn·h_{t−1} + b_hn)) = tanh(${vec(s.n_pre[i])}), r_t = ${vec(s.r[i])}`,
    ];
  }
  const f = res.params.mode === 'rnn_relu' ? 'relu' : 'tanh';
  return [
    `h_t = ${f}(W_ih·x_t + b_ih + W_hh·h_{t−1} + b_hh) = ${f}(${vec(s.h_pre[i])}) = ${vec(s.h[i])}`,
    `h_{t−1} = ${vec(s.h_prev[i])}, x_t = ${vec(s.x[i])}`,
  ];
}
