// The residual block: conv1 -> relu -> conv2, the identity path, their sum and the output,
// each drawn as a stack of channel maps from the engine's stages.

import { $, bindNumber, bindRadios, bindSelect, fillSelect, range, setRadio, setValue } from './controls.js';
import { ChannelStack } from './stack.js';

const STAGES = ['input', 'conv1', 'relu1', 'conv2', 'identity', 'sum', 'output'];
const stacks = {};

export default {
  endpoint: '/api/family/residual',
  stepped: false,

  init({ state, limits, data, changed }) {
    fillSelect('re-mid', range(1, limits.max_mid_channels));
    fillSelect('re-kernel', range(1, limits.max_kernel_side));
    fillSelect('re-size', data.sizes, (s) => `${s}×${s}`);
    bindRadios(
      're-color',
      (v) => {
        state.color = v;
      },
      changed,
    );
    bindSelect(
      're-mid',
      (v) => {
        state.mid_channels = v;
      },
      changed,
      Number,
    );
    bindSelect(
      're-kernel',
      (v) => {
        state.kernel_size = v;
      },
      changed,
      Number,
    );
    bindSelect(
      're-size',
      (v) => {
        state.size = v;
      },
      changed,
      Number,
    );
    bindNumber(
      're-scale',
      (v) => {
        state.scale = v;
      },
      changed,
    );
    for (const name of STAGES) stacks[name] = new ChannelStack($(`re-${name}`), `re-${name}`, { target: 72 });
  },

  show(state) {
    setRadio('re-color', state.color);
    setValue('re-mid', state.mid_channels);
    setValue('re-kernel', state.kernel_size);
    setValue('re-size', state.size);
    setValue('re-scale', state.scale);
  },

  draw(res) {
    const mid = res.stages.conv1.map((_, m) => `channel ${m}`);
    stacks.input.set(res.stages.identity, res.names);
    stacks.conv1.set(res.stages.conv1, mid);
    stacks.relu1.set(res.stages.relu1, mid);
    stacks.conv2.set(res.stages.conv2, res.names);
    stacks.identity.set(res.stages.identity, res.names);
    stacks.sum.set(res.stages.sum, res.names);
    stacks.output.set(res.output, res.names);
  },
};
