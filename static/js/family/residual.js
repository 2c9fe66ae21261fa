// The residual block: conv1 -> relu -> conv2, the identity path, their sum and the output,
// each drawn as a stack of channel maps from the engine's stages.

import { $, bindNumber, bindRadios, bindSelect, fillSelect, range, setRadio, setValue } from './controls.js';
import { col, fitFigure, fixed, row } from '../figure.js';
import { ChannelStack } from './stack.js';
import { GAP, room } from './views.js';

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
    for (const name of STAGES) stacks[name] = new ChannelStack($(`re-${name}`), `re-${name}`);
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

  // The seven stages in one line, or the branch above the sum: whichever gives bigger maps.
  fit() {
    const figure = $('re-figure');
    const line = (el) =>
      row(
        [...el.children].map((child) => {
          if (child.classList.contains('arrow')) return fixed(child.offsetWidth, 0);
          const stack = stacks[child.lastElementChild.id.slice(3)];
          return col([fixed(0, child.firstElementChild.offsetHeight + 4), stack.node()]);
        }),
        GAP,
      );
    const [branch, merge] = [...figure.children].map(line);
    const height = room(figure, 8);
    const arrangements = { one: row([branch, merge], GAP), two: col([branch, merge], 2 * GAP) };
    const { name } = fitFigure(arrangements, { width: figure.clientWidth, height }, 24);
    figure.classList.toggle('two-lines', name === 'two');
    for (const stack of Object.values(stacks)) stack.drawBar();
  },
};
