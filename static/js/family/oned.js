// 1-D convolution: a signal and a kernel typed as lists; each step shows the window on
// the padded signal, the products and the sum, from the engine's conv1d trace.

import { col, fitFigure, map, row } from '../figure.js';
import { $, bindInt, bindList, bindSelect, setValue } from './controls.js';
import { GAP, addMap, drawMatrix, room, sumText } from './views.js';

const views = {};
let res = null;

export default {
  endpoint: '/api/family/conv1d',
  stepped: true,

  init({ state, defaults, changed }) {
    bindList(
      'od-signal',
      (v) => {
        state.signal = v;
      },
      changed,
    );
    bindList(
      'od-kernel',
      (v) => {
        state.kernel = v;
      },
      changed,
    );
    bindInt(
      'od-stride',
      (v) => {
        state.stride = v;
      },
      changed,
    );
    bindInt(
      'od-padding',
      (v) => {
        state.padding = v;
      },
      changed,
    );
    bindInt(
      'od-dilation',
      (v) => {
        state.dilation = v;
      },
      changed,
    );
    bindSelect(
      'od-mode',
      (v) => {
        state.padding_mode = v;
      },
      changed,
    );
    $('od-seed').addEventListener('click', () => {
      // seed 002 pads one zero on the left only; padding 1 here pads both ends
      Object.assign(state, structuredClone(defaults), { padding: 1 });
      this.show(state);
      changed();
    });
    const opts = { target: 250, maxCell: 44, numbers: true };
    views.padded = addMap($('od-padded-box'), 'od-padded', opts);
    views.kernel = addMap($('od-kernel-box'), 'od-kernel-map', opts);
    views.products = addMap($('od-products-box'), 'od-products', opts);
    views.output = addMap($('od-output-box'), 'od-output', opts);
  },

  // One cell size for the four rows, as big as the figure's room allows with the sum below it.
  fit() {
    const figure = $('od-views');
    const { padded, kernel, products, output } = views;
    const tree = col([map(padded), row([map(kernel), map(products)], 3 * GAP), map(output)], GAP);
    const below = $('od-equation').offsetHeight + 16;
    fitFigure({ rows: tree }, { width: figure.clientWidth, height: room(figure, below) }, 80);
  },

  show(state) {
    setValue('od-signal', state.signal);
    setValue('od-kernel', state.kernel);
    setValue('od-stride', state.stride);
    setValue('od-padding', state.padding);
    setValue('od-dilation', state.dilation);
    setValue('od-mode', state.padding_mode);
  },

  draw(answer) {
    res = answer;
    $('od-size').innerHTML = res.formulas.size;
  },

  step(i) {
    const { steps, stages, params } = res;
    const [left] = params.pads;
    const [length] = params.input_size;
    const pos = steps.position[i];
    drawMatrix(views.padded, stages.padded, 'Padded signal');
    views.padded.setHighlights([{ rows: [0], cols: steps.positions[i], frame: [0, left, 1, left + length] }]);
    drawMatrix(views.kernel, stages.kernel, 'Kernel');
    drawMatrix(views.products, steps.products[i], 'Products');
    drawMatrix(views.output, res.output, 'Output', { filled: i + 1 });
    views.output.setHighlights([{ rows: [0], cols: [pos], fill: null, colour: '#111' }]);
    $('step-label').textContent =
      `step ${i + 1} of ${res.num_steps}: output [${pos}], ` +
      `window on positions ${steps.positions[i].join(', ')} of the padded signal`;
    $('od-equation').innerHTML = sumText(`y[${pos}]`, stages.kernel, steps.window[i], steps.result[i]);
  },
};
