// Side by side: one window on the input, and what each compared kind (max, average, min and Lp
// pooling: `compared` in app/pages/pool/kinds.py) makes of it, each output filling in step by step.

import { fmt } from '../format.js';
import { MARKS, asNumber, drawGrid, shorten, terms } from './draw.js';

// the cell an extreme kind keeps, marked on the input: red for the largest, blue for the smallest
const KEPT = {
  largest: () => ({ ...MARKS.winner, label: 'winner' }),
  smallest: (kind) => ({ colour: '#1f6feb', fill: 'rgba(31,111,235,0.3)', width: 3, label: kind.id }),
};

// One kind's reduction of the window written out, by its `formula`.
const WRITE = {
  extreme: ({ cells }) => `(${cells.join(', ')})`,
  divisor: ({ cells, s, j }) => `(${cells.join(' + ')}) / ${fmt(s.divisor[j])}`,
  power: ({ cells, p }) => `(${cells.map((v) => `${v}^${p}`).join(' + ')})^(1/${p})`,
};

export function renderCompare({ first, res, i, views, kinds }) {
  const j = i - res.step_offset;
  const s = res.steps;
  const rows = s.rows[j],
    cols = s.cols[j];
  const [r, c] = s.index[j];
  const [h, w] = first.params.input_size;
  const p = fmt(first.params.norm_type);
  drawGrid(views.input, first.input, 'Input');
  const marks = [{ rows, cols, frame: [0, 0, h, w], label: 'window' }];
  for (const kind of kinds) {
    const kept = kind.keeps && s[`winner_${kind.id}`][j];
    if (kept && kept[0] >= 0) marks.push({ rows: [kept[0]], cols: [kept[1]], ...KEPT[kind.keeps](kind) });
  }
  views.input.setHighlights(marks);
  drawGrid(views.window, s.window[j], 'Window');
  views.window.setHighlights([]);
  views.extra.el.hidden = true;
  for (const kind of kinds) {
    const title = kind.formula === 'power' ? `${kind.label}, p = ${p}` : kind.label;
    drawGrid(views.outputs[kind.id], first.outputs[kind.id], title, { filled: i + 1 });
    views.outputs[kind.id].setHighlights([{ rows: [r], cols: [c], ...MARKS.current }]);
  }
  const cells = shorten(terms(s.window[j], s.valid[j], '·'));
  const out = (kind) => `<strong>${fmt(asNumber(s.results[kind.id][j]))}</strong>`;
  document.getElementById('step-label').textContent =
    `step ${i + 1} of ${first.num_steps}: window for output [${r}, ${c}]`;
  document.getElementById('equation').innerHTML = kinds
    .map((kind) => `<span class="lhs">${kind.word}</span> ${WRITE[kind.formula]({ cells, s, j, p })} = ${out(kind)}`)
    .join('<br>');
}
