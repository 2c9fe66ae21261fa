// Draws one step of a conv trace: the window on the padded input, the kernel, the
// products, the output filling in, and the sum written out with the engine's numbers.

import { presenter } from './classroom/mode.js';
import { factor, fmt } from './format.js';
import { extent } from './mapview.js';

// Products written out in full up to this many (presenter view: fewer, so the sum stays on one
// screen with the maps); longer sums show the first nine, an ellipsis and the last three.
const MAX_TERMS = { normal: 27, presenter: 12 };

// A map's title: its kind, and its channel when there are several.
const channelTitle = (kind, channel) => (channel === 'gray' ? kind : `${kind} ${channel}`);

export function renderStep({ stages, res, i, views, relu, filter }) {
  const j = i - res.step_offset;
  const { index, rows, cols, products } = res.steps;
  const [, , r, c] = index[j];
  const { padded, weight } = stages.stages;
  const [top, , left] = stages.params.pads;
  const [h, w] = stages.params.input_size;
  const frame = [top, left, top + h, left + w];
  padded.forEach((plane, ch) => {
    const values = plane.flat();
    const v = views.inputs[ch];
    v.setData(values, plane.length, plane[0].length, {
      ...extent(values),
      title: `${channelTitle('Input', v.name)} (padded)`,
    });
    v.setHighlights([{ rows: rows[j], cols: cols[j], frame }]);
  });
  weight.forEach((k, ch) => {
    const values = k.flat();
    views.kernels[ch].setData(values, k.length, k[0].length, {
      ...extent(values),
      title: channelTitle('Kernel', views.kernels[ch].name),
    });
  });
  products[j].forEach((p, ch) => {
    const values = p.flat();
    views.products[ch].setData(values, p.length, p[0].length, {
      ...extent(values),
      title: channelTitle('Products', views.products[ch].name),
    });
  });
  const out = stages.output;
  const outValues = out.flat();
  views.output.setData(outValues, out.length, out[0].length, {
    ...extent(outValues),
    filled: i + 1,
    title: `Output of filter ${filter + 1}`,
  });
  views.output.setHighlights([{ rows: [r], cols: [c], fill: null, colour: '#111' }]);

  document.getElementById('step-label').textContent =
    `step ${i + 1} of ${stages.num_steps}: output [${r}, ${c}], window at row ${rows[j][0]}, column ${cols[j][0]} of the padded input`;
  document.getElementById('equation').innerHTML = equation({
    r,
    c,
    weight,
    win: windowAt(padded, rows[j], cols[j]),
    sum: res.steps.sum[j],
    bias: res.steps.bias[j],
    result: res.steps.result[j],
    hasBias: stages.params.has_bias,
    activation: relu && stages.activation ? stages.activation[r][c] : null,
  });
}

// The step's window (C, kH, kW): the padded input at the rows and columns the engine recorded.
function windowAt(padded, rows, cols) {
  return padded.map((plane) => rows.map((r) => cols.map((c) => plane[r][c])));
}

function equation({ r, c, weight, win, sum, bias, result, hasBias, activation }) {
  const terms = [];
  weight.forEach((k, ch) =>
    k.forEach((row, u) =>
      row.forEach((wv, v) => {
        terms.push(`${factor(wv)}·${factor(win[ch][u][v])}`);
      }),
    ),
  );
  const long = terms.length > (presenter() ? MAX_TERMS.presenter : MAX_TERMS.normal);
  const shown = long ? [...terms.slice(0, 9), '…', ...terms.slice(-3)] : terms;
  let text = `<span class="lhs">y[${r}, ${c}]</span> = ${shown.join(' + ')}`;
  if (long) text += ` <span class="sub">(${terms.length} products, sum ${fmt(sum)})</span>`;
  if (hasBias) text += ` + ${factor(bias)} <span class="sub">(bias)</span>`;
  text += ` = <strong>${fmt(result)}</strong>`;
  if (activation !== null) text += ` → ReLU → <strong>${fmt(activation)}</strong>`;
  return text;
}
