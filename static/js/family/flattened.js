// Flattened convolution: the three 1-D filters, the map after each pass, and the full
// rank-1 kernel they equal with its own output, all from the engine.

import { fmt } from '../format.js';
import { $, bindInt, bindList, bindRadios, bindSelect, fillSelect, setRadio, setValue } from './controls.js';
import { ChannelStack } from './stack.js';
import { col, fitFigure, fixed, map as mapNode, row } from '../figure.js';
import { GAP, addMap, drawMatrix, room } from './views.js';

const views = {};
const stacks = {};
const CHANNEL_DEFAULT = { gray: [1], rgb: [0.3, 0.6, 0.1] };

export default {
  endpoint: '/api/family/flattened',
  stepped: false,

  init({ state, data, changed }) {
    fillSelect('fl-size', data.sizes, (s) => `${s}×${s}`);
    bindRadios(
      'fl-color',
      (v) => {
        state.color = v;
        if (state.channel.length !== CHANNEL_DEFAULT[v].length) state.channel = [...CHANNEL_DEFAULT[v]];
        setValue('fl-channel', state.channel);
      },
      changed,
    );
    bindSelect(
      'fl-size',
      (v) => {
        state.size = v;
      },
      changed,
      Number,
    );
    bindList(
      'fl-channel',
      (v) => {
        state.channel = v;
      },
      changed,
    );
    bindList(
      'fl-vertical',
      (v) => {
        state.vertical = v;
      },
      changed,
    );
    bindList(
      'fl-horizontal',
      (v) => {
        state.horizontal = v;
      },
      changed,
    );
    bindInt(
      'fl-padding',
      (v) => {
        state.padding = v;
      },
      changed,
    );
    stacks.input = new ChannelStack($('fl-input'), 'fl-in');
    stacks.full = new ChannelStack($('fl-full-kernel'), 'fl-full-kernel', { target: 100, maxCell: 34, numbers: true });
    const box = $('fl-views');
    const filter = { target: 90, maxCell: 36, numbers: true };
    const map = { target: 160, maxCell: 20 };
    views.channel = addMap(box, 'fl-channel-filter', filter);
    views.afterChannel = addMap(box, 'fl-after-channel', map);
    views.vertical = addMap(box, 'fl-vertical-filter', filter);
    views.afterVertical = addMap(box, 'fl-after-vertical', map);
    views.horizontal = addMap(box, 'fl-horizontal-filter', filter);
    views.output = addMap(box, 'fl-output', map);
    views.fullOutput = addMap($('fl-full-views'), 'fl-full-output', map);
  },

  // The input and the three passes in one line as wide as the figure; the 1-D filters' cells
  // bigger so their weights can be read.
  fit() {
    const figure = $('fl-figure');
    const v = views;
    const heading = $('fl-input').previousElementSibling.offsetHeight + 4;
    const line = row(
      [
        col([fixed(0, heading), stacks.input.node()]),
        ...[v.channel, v.afterChannel, v.vertical, v.afterVertical, v.horizontal, v.output].map((view, i) =>
          mapNode(view, i % 2 === 0 ? 4 : 1),
        ),
      ],
      GAP,
    );
    fitFigure({ line }, { width: figure.clientWidth, height: room(figure, 8) }, 24);
    stacks.input.drawBar();
  },

  show(state) {
    setRadio('fl-color', state.color);
    for (const key of ['channel', 'vertical', 'horizontal', 'padding', 'size']) setValue(`fl-${key}`, state[key]);
  },

  draw(res) {
    stacks.input.set(res.input, res.names);
    const { filters } = res;
    drawMatrix(views.channel, [filters.channel], 'channels');
    drawMatrix(views.afterChannel, res.stages.after_channel, 'after channels');
    drawMatrix(
      views.vertical,
      filters.vertical.map((v) => [v]),
      'rows',
    );
    drawMatrix(views.afterVertical, res.stages.after_vertical, 'after rows');
    drawMatrix(views.horizontal, [filters.horizontal], 'columns');
    drawMatrix(views.output, res.output, 'output');
    stacks.full.set(
      res.full_kernel,
      res.names.map((n) => `kernel ${n}`),
    );
    drawMatrix(views.fullOutput, res.full_output, 'full conv2d output');
    const { full, flattened } = res.operations;
    $('fl-ops').textContent =
      `${flattened.toLocaleString('en-US')} multiplications per output map instead of ` +
      `${full.toLocaleString('en-US')} for the full kernel.`;
    const rounding = res.max_difference > 0 ? ', floating-point rounding only' : '';
    $('fl-same').textContent =
      `The flattened layer and the full conv2d give the same map: the largest ` +
      `difference between them is ${fmt(res.max_difference)}${rounding}.`;
    $('fl-f-full').innerHTML = res.formulas.full;
    $('fl-f-flattened').innerHTML = res.formulas.flattened;
  },
};
