// Grouped, depthwise, pointwise and depthwise-separable layers: the channels as stacks,
// SVG lines for which input channel feeds which output, and the engine's cost counts
// beside a standard convolution of the same shape.

import { fmt } from '../format.js';
import { $, bindCheck, bindSelect, fillSelect, range, setValue } from './controls.js';
import { drawLinks, fitFlow, matrixPairs } from './links.js';
import { ChannelStack } from './stack.js';

const stacks = {};
let last = null; // the latest answer, drawn again when the room changes
const LAYER_NAMES = {
  standard: 'this layer (standard)',
  grouped: 'this layer (grouped)',
  depthwise: 'this layer (depthwise)',
  pointwise: 'this layer (pointwise 1×1)',
  separable: 'this layer (depthwise + pointwise)',
};
const count = (n) => n.toLocaleString('en-US');

export default {
  endpoint: '/api/family/grouped',
  stepped: false,

  init({ state, limits, data, changed }) {
    const channels = range(1, limits.max_family_channels);
    fillSelect('gr-in', channels);
    fillSelect('gr-out', channels);
    fillSelect('gr-groups', channels);
    fillSelect('gr-kernel', range(1, limits.max_kernel_side));
    fillSelect('gr-size', data.sizes, (s) => `${s}×${s}`);
    const redraw = () => {
      this.show(state);
      changed();
    };
    bindSelect(
      'gr-mode',
      (v) => {
        state.mode = v;
      },
      redraw,
    );
    bindSelect(
      'gr-in',
      (v) => {
        state.in_channels = v;
      },
      changed,
      Number,
    );
    bindSelect(
      'gr-out',
      (v) => {
        state.out_channels = v;
      },
      changed,
      Number,
    );
    bindSelect(
      'gr-groups',
      (v) => {
        state.groups = v;
      },
      changed,
      Number,
    );
    bindSelect(
      'gr-kernel',
      (v) => {
        state.kernel_size = v;
      },
      changed,
      Number,
    );
    bindSelect(
      'gr-padding',
      (v) => {
        state.padding = v;
      },
      changed,
    );
    bindSelect(
      'gr-size',
      (v) => {
        state.size = v;
      },
      changed,
      Number,
    );
    bindCheck(
      'gr-bias',
      (v) => {
        state.bias = v;
      },
      changed,
    );
    stacks.input = new ChannelStack($('gr-input'), 'gr-in', { dir: 'row' });
    stacks.middle = new ChannelStack($('gr-middle'), 'gr-mid', { dir: 'row' });
    stacks.output = new ChannelStack($('gr-output'), 'gr-out', { dir: 'row' });
  },

  show(state) {
    for (const [id, key] of [
      ['gr-mode', 'mode'],
      ['gr-in', 'in_channels'],
      ['gr-out', 'out_channels'],
      ['gr-groups', 'groups'],
      ['gr-kernel', 'kernel_size'],
      ['gr-padding', 'padding'],
      ['gr-size', 'size'],
      ['gr-bias', 'bias'],
    ])
      setValue(id, state[key]);
    $('gr-groups-row').hidden = state.mode !== 'grouped';
    $('gr-kernel-row').hidden = state.mode === 'pointwise';
  },

  draw(res) {
    const separable = res.mode === 'separable';
    stacks.input.set(res.input, res.names);
    $('gr-middle-column').hidden = !separable;
    $('gr-links-1').hidden = !separable;
    if (separable)
      stacks.middle.set(
        res.middle,
        res.names.map((n) => `${n} filtered`),
      );
    stacks.output.set(
      res.output,
      res.output.map((_, o) => `out ${o}`),
    );
    last = res;
    const { layer, standard } = res.cost;
    $('gr-layer-name').textContent = LAYER_NAMES[res.mode];
    $('gr-params').textContent = count(layer.parameters);
    $('gr-macs').textContent = count(layer.macs);
    $('gr-std-params').textContent = count(standard.parameters);
    $('gr-std-macs').textContent = count(standard.macs);
    const { parameters, macs } = res.ratio;
    $('gr-ratio').textContent =
      parameters === 1 && macs === 1
        ? 'This layer costs exactly what a standard convolution of the same shape costs.'
        : `A standard convolution of the same shape needs ${fmt(parameters, 2)}× the parameters and ` +
          `${fmt(macs, 2)}× the multiply-accumulates.`;
    $('gr-f-params').innerHTML = res.formulas.parameters;
    $('gr-f-macs').innerHTML = res.formulas.macs;
    $('gr-f-std-params').innerHTML = res.formulas.standard_parameters;
    $('gr-f-std-macs').innerHTML = res.formulas.standard_macs;
  },

  // The rows as wide as the figure, then the lines drawn between the maps where they now are.
  fit() {
    const separable = last.mode === 'separable';
    const rows = separable ? [stacks.input, stacks.middle, stacks.output] : [stacks.input, stacks.output];
    fitFlow($('gr-figure'), rows, separable ? [$('gr-links-0'), $('gr-links-1')] : [$('gr-links-0')]);
    const next = separable ? stacks.middle : stacks.output;
    const [first, second] = last.diagrams;
    drawLinks($('gr-links-0'), stacks.input.cards, next.cards, matrixPairs(first.connections, first.source_group));
    if (separable) {
      const pairs = matrixPairs(second.connections, second.source_group);
      drawLinks($('gr-links-1'), stacks.middle.cards, stacks.output.cards, pairs);
    }
  },
};
