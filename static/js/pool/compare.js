// Side by side: one window on the input, and what max, average, min and Lp pooling make of
// it, each output filling in step by step.

import { fmt } from '../format.js';
import { MARKS, asNumber, drawGrid, shorten, terms } from './draw.js';

export const KINDS = [
  ['max', 'Max'],
  ['avg', 'Average'],
  ['min', 'Min'],
  ['lp', 'Lp'],
];

export function renderCompare({ first, res, i, views }) {
  const j = i - res.step_offset;
  const s = res.steps;
  const rows = s.rows[j],
    cols = s.cols[j];
  const [r, c] = s.index[j];
  const [h, w] = first.params.input_size;
  drawGrid(views.input, first.input, 'Input');
  const marks = [{ rows, cols, frame: [0, 0, h, w], label: 'window' }];
  const best = s.winner_max[j],
    worst = s.winner_min[j];
  if (best[0] >= 0) marks.push({ rows: [best[0]], cols: [best[1]], ...MARKS.winner, label: 'winner' });
  if (worst[0] >= 0)
    marks.push({
      rows: [worst[0]],
      cols: [worst[1]],
      colour: '#1f6feb',
      fill: 'rgba(31,111,235,0.3)',
      width: 3,
      label: 'min',
    });
  views.input.setHighlights(marks);
  drawGrid(views.window, s.window[j], 'Window');
  views.window.setHighlights([]);
  views.extra.el.hidden = true;
  for (const [kind, label] of KINDS) {
    const title = kind === 'lp' ? `Lp, p = ${fmt(first.params.norm_type)}` : label;
    drawGrid(views.outputs[kind], first.outputs[kind], title, { filled: i + 1 });
    views.outputs[kind].setHighlights([{ rows: [r], cols: [c], ...MARKS.current }]);
  }
  const cells = shorten(terms(s.window[j], s.valid[j], '·'));
  const p = fmt(first.params.norm_type);
  const out = (kind) => `<strong>${fmt(asNumber(s.results[kind][j]))}</strong>`;
  document.getElementById('step-label').textContent =
    `step ${i + 1} of ${first.num_steps}: window for output [${r}, ${c}]`;
  document.getElementById('equation').innerHTML = [
    `<span class="lhs">max</span> (${cells.join(', ')}) = ${out('max')}`,
    `<span class="lhs">average</span> (${cells.join(' + ')}) / ${fmt(s.divisor[j])} = ${out('avg')}`,
    `<span class="lhs">min</span> (${cells.join(', ')}) = ${out('min')}`,
    `<span class="lhs">Lp</span> (${cells.map((v) => `${v}^${p}`).join(' + ')})^(1/${p}) = ${out('lp')}`,
  ].join('<br>');
}
