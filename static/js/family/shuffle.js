// Channel shuffle: the engine's permutation drawn as lines from each input slot to its
// output slot, coloured by the input channel's group, with the maps before and after.

import { $, bindSelect, fillSelect, range, setValue } from './controls.js';
import { drawLinks, fitFlow } from './links.js';
import { ChannelStack } from './stack.js';

const stacks = {};
let pairs = []; // (from, to, group) of the latest answer

export default {
  endpoint: '/api/family/shuffle',
  stepped: false,

  init({ state, limits, data, changed }) {
    fillSelect('sh-channels', range(1, limits.max_family_channels));
    fillSelect('sh-groups', range(1, limits.max_family_channels));
    fillSelect('sh-size', data.sizes, (s) => `${s}×${s}`);
    bindSelect(
      'sh-channels',
      (v) => {
        state.channels = v;
      },
      changed,
      Number,
    );
    bindSelect(
      'sh-groups',
      (v) => {
        state.groups = v;
      },
      changed,
      Number,
    );
    bindSelect(
      'sh-size',
      (v) => {
        state.size = v;
      },
      changed,
      Number,
    );
    stacks.input = new ChannelStack($('sh-input'), 'sh-in', { dir: 'row' });
    stacks.output = new ChannelStack($('sh-output'), 'sh-out', { dir: 'row' });
  },

  show(state) {
    setValue('sh-channels', state.channels);
    setValue('sh-groups', state.groups);
    setValue('sh-size', state.size);
  },

  draw(res) {
    stacks.input.set(
      res.input,
      res.names.map((n, c) => `${c}: ${n}`),
    );
    stacks.output.set(
      res.output,
      res.output_names.map((n, k) => `${k}: ${n}`),
    );
    pairs = res.permutation.map((from, to) => [from, to, res.input_group[from]]);
    $('sh-formula').innerHTML = res.formulas.permutation;
  },

  fit() {
    fitFlow($('sh-figure'), [stacks.input, stacks.output], [$('sh-links')]);
    drawLinks($('sh-links'), stacks.input.cards, stacks.output.cards, pairs);
  },
};
