// Transposed convolution, both readings stepped together. The server sends the scatter
// steps with the output after each stamp, the gather reading's conv2d trace, and a
// schedule saying which step of each reading to show at each joint step.

import { KernelEditor } from '../kernel-editor.js';
import { fmt } from '../format.js';
import { applyCell, col, largestCell, map, row } from '../figure.js';
import { $, bindInt, fillSelect, range, setValue } from './controls.js';
import { GAP, addMap, drawMatrix, extent, room, sumText } from './views.js';

const views = {};
const editors = {};
let res = null;
const EXAMPLE = {
  input: [
    [1, 2],
    [3, 4],
  ],
  kernel: [
    [1, 1, 1],
    [1, 1, 1],
    [1, 1, 1],
  ],
  stride: 2,
  padding: 0,
  dilation: 1,
  output_padding: 0,
};

// The matrix cut or extended to rows x cols from its top-left corner, new cells `fill`.
function resize(m, rows, cols, fill) {
  return range(0, rows - 1).map((r) => range(0, cols - 1).map((c) => (m[r] && m[r][c] !== undefined ? m[r][c] : fill)));
}

// The rows and columns of a stamp that land on the output (the engine's `inside` mask).
function landed(rows, cols, inside) {
  return {
    rows: rows.filter((_, u) => inside[u].some(Boolean)),
    cols: cols.filter((_, v) => inside.some((row) => row[v])),
  };
}

export default {
  endpoint: '/api/family/transposed',
  stepped: true,

  init({ state, limits, changed }) {
    const sides = range(1, limits.max_transposed_side);
    for (const id of ['tr-in-rows', 'tr-in-cols', 'tr-k-rows', 'tr-k-cols']) fillSelect(id, sides);
    const onResize = (key, rowsId, colsId, fill) => () => {
      state[key] = resize(state[key], Number($(rowsId).value), Number($(colsId).value), fill);
      this.show(state);
      changed();
    };
    $('tr-in-rows').addEventListener('change', onResize('input', 'tr-in-rows', 'tr-in-cols', 0));
    $('tr-in-cols').addEventListener('change', onResize('input', 'tr-in-rows', 'tr-in-cols', 0));
    $('tr-k-rows').addEventListener('change', onResize('kernel', 'tr-k-rows', 'tr-k-cols', 1));
    $('tr-k-cols').addEventListener('change', onResize('kernel', 'tr-k-rows', 'tr-k-cols', 1));
    editors.input = new KernelEditor($('tr-input-editor'), (_, r, c, v) => {
      state.input[r][c] = v;
      changed();
    });
    editors.kernel = new KernelEditor($('tr-kernel-editor'), (_, r, c, v) => {
      state.kernel[r][c] = v;
      changed();
    });
    bindInt(
      'tr-stride',
      (v) => {
        state.stride = v;
      },
      changed,
    );
    bindInt(
      'tr-padding',
      (v) => {
        state.padding = v;
      },
      changed,
    );
    bindInt(
      'tr-output-padding',
      (v) => {
        state.output_padding = v;
      },
      changed,
    );
    bindInt(
      'tr-dilation',
      (v) => {
        state.dilation = v;
      },
      changed,
    );
    $('tr-example').addEventListener('click', () => {
      Object.assign(state, structuredClone(EXAMPLE));
      this.show(state);
      changed();
    });
    const opts = { target: 150, maxCell: 40, numbers: true };
    for (const [key, id] of [
      ['input', 'tr-input'],
      ['stamp', 'tr-stamp'],
      ['scatter', 'tr-scatter'],
      ['padded', 'tr-padded'],
      ['flipped', 'tr-flipped'],
      ['gather', 'tr-gather'],
    ])
      views[key] = addMap($(`${id}-box`), id, opts);
  },

  // Both readings side by side (stacked on a phone) with one cell size, their sums under them.
  fit() {
    const v = views;
    const scatter = row([col([map(v.input), map(v.stamp)], GAP), map(v.scatter)], GAP);
    const gather = row([map(v.padded), col([map(v.flipped), map(v.gather)], GAP)], GAP);
    const reading = $('tr-scatter-views').parentElement;
    const text = Math.max($('tr-scatter-text').offsetHeight, $('tr-gather-text').offsetHeight);
    const box = { width: reading.clientWidth, height: room($('tr-scatter-views'), text + 24) };
    const c = Math.min(largestCell(scatter, box, 80).c, largestCell(gather, box, 80).c);
    applyCell(scatter, c);
    applyCell(gather, c);
  },

  show(state) {
    setValue('tr-in-rows', state.input.length);
    setValue('tr-in-cols', state.input[0].length);
    setValue('tr-k-rows', state.kernel.length);
    setValue('tr-k-cols', state.kernel[0].length);
    editors.input.show([state.input], ['input x']);
    editors.kernel.show([state.kernel], ['kernel w']);
    for (const key of ['stride', 'padding', 'dilation']) setValue(`tr-${key}`, state[key]);
    setValue('tr-output-padding', state.output_padding);
  },

  draw(answer) {
    res = answer;
    $('tr-size-height').innerHTML = res.formulas.height;
    $('tr-size-width').innerHTML = res.formulas.width;
    const [oh, ow] = res.params.output_size;
    $('tr-same').textContent =
      `Both readings give the same ${oh}×${ow} output: the largest difference ` +
      `between them is ${fmt(res.max_difference)}.`;
  },

  step(t) {
    const a = res.schedule.scatter[t],
      b = res.schedule.gather[t];
    const scale = extent(res.output.flat()); // both outputs keep the final colours while they fill in
    const sc = res.scatter,
      ss = sc.steps;
    const [i, j] = ss.index[a];
    const value = ss.value[a];
    drawMatrix(views.input, sc.input, 'Input x');
    views.input.setHighlights([{ rows: [i], cols: [j], fill: null, colour: '#111' }]);
    drawMatrix(views.stamp, ss.stamp[a], `Stamp: ${fmt(value)} × kernel`);
    drawMatrix(views.scatter, sc.partial[a], `Output after ${a + 1} of ${sc.num_steps} stamps`, scale);
    const hit = landed(ss.rows[a], ss.cols[a], ss.inside[a]);
    views.scatter.setHighlights(hit.rows.length && hit.cols.length ? [hit] : []);
    const where =
      hit.rows.length && hit.cols.length
        ? `rows ${hit.rows[0]}–${hit.rows[hit.rows.length - 1]}, columns ${hit.cols[0]}–${hit.cols[hit.cols.length - 1]}`
        : 'nothing: the padding crops its whole stamp';
    $('tr-scatter-text').innerHTML =
      `<span class="lhs">x[${i}, ${j}] = ${fmt(value)}</span> adds ` +
      `${fmt(value)} × kernel onto ${where} (stamp corner at ${ss.origin[a].join(', ')})`;

    const g = res.gather,
      gs = g.steps;
    const [r, c] = gs.index[b];
    drawMatrix(views.padded, g.padded, 'Zeros inserted, then padded');
    views.padded.setHighlights([{ rows: gs.rows[b], cols: gs.cols[b], frame: g.frame }]);
    drawMatrix(views.flipped, g.kernel, 'Flipped kernel');
    drawMatrix(views.gather, g.output, 'Output', { ...scale, filled: b + 1 });
    views.gather.setHighlights([{ rows: [r], cols: [c], fill: null, colour: '#111' }]);
    $('tr-gather-text').innerHTML = sumText(`y[${r}, ${c}]`, g.kernel.flat(), gs.window[b].flat(), gs.result[b]);
    $('step-label').textContent =
      `step ${t + 1} of ${res.num_steps}: scatter step ${a + 1} of ${sc.num_steps}, ` +
      `gather step ${b + 1} of ${g.num_steps}`;
  },
};
