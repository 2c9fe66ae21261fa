// Tiled convolution: one editable kernel per tile position, the engine's map of which
// kernel each output used, and the parameter count beside a plain convolution.

import { KernelEditor } from '../kernel-editor.js';
import { $, bindInt, bindSelect, fillSelect, range, setValue } from './controls.js';
import { col, fitFigure, map, row } from '../figure.js';
import { GAP, addMap, drawMatrix, room } from './views.js';

const views = {};
let editor = null;
let kernels = null; // (tH, tW, k, k) the kernels of the last answer

const kernelName = (a, b, tw) => `kernel ${a * tw + b} (${a}, ${b})`;

export default {
  endpoint: '/api/family/tiled',
  stepped: false,

  init({ state, limits, data, changed }) {
    fillSelect('ti-rows', range(1, limits.max_tile_side));
    fillSelect('ti-cols', range(1, limits.max_tile_side));
    fillSelect('ti-kernel', range(1, limits.max_kernel_side));
    fillSelect('ti-size', data.sizes, (s) => `${s}×${s}`);
    const reshape = (apply) => (v) => {
      apply(v);
      state.weight = null;
    }; // new shape: default kernels
    bindSelect(
      'ti-rows',
      reshape((v) => {
        state.tile = [v, state.tile[1]];
      }),
      changed,
      Number,
    );
    bindSelect(
      'ti-cols',
      reshape((v) => {
        state.tile = [state.tile[0], v];
      }),
      changed,
      Number,
    );
    bindSelect(
      'ti-kernel',
      reshape((v) => {
        state.kernel_size = v;
      }),
      changed,
      Number,
    );
    bindSelect(
      'ti-size',
      (v) => {
        state.size = v;
      },
      changed,
      Number,
    );
    bindInt(
      'ti-stride',
      (v) => {
        state.stride = v;
      },
      changed,
    );
    bindInt(
      'ti-padding',
      (v) => {
        state.padding = v;
      },
      changed,
    );
    $('ti-reset').addEventListener('click', () => {
      state.weight = null;
      changed();
    });
    editor = new KernelEditor($('ti-editor'), (n, r, c, v) => {
      if (!kernels) return; // nothing shown yet to edit
      // the first edit copies the kernels shown; later edits change that copy
      if (!state.weight) state.weight = structuredClone(kernels);
      const tw = state.tile[1];
      state.weight[Math.floor(n / tw)][n % tw][r][c] = v;
      changed();
    });
    views.input = addMap($('ti-input-box'), 'ti-input', { target: 260, maxCell: 30, signed: false });
    views.tile = addMap($('ti-tile-box'), 'ti-tile', { target: 260, maxCell: 30, signed: false, numbers: true });
    views.output = addMap($('ti-output-box'), 'ti-output', { target: 260, maxCell: 30 });
  },

  // The map of which kernel made each output is the figure: as big as the room allows, so its
  // kernel numbers can be written on the cells; the input and the output beside it, smaller.
  fit() {
    const figure = $('ti-views');
    const side = col([map(views.input, 0.5), map(views.output, 0.5)], GAP);
    const arrangements = {
      beside: row([map(views.tile), side], 2 * GAP),
      under: col([map(views.tile), row([map(views.input, 0.5), map(views.output, 0.5)], GAP)], GAP),
    };
    const { name } = fitFigure(arrangements, { width: figure.clientWidth, height: room(figure, 8) }, 64);
    figure.classList.toggle('under', name === 'under');
  },

  show(state) {
    setValue('ti-rows', state.tile[0]);
    setValue('ti-cols', state.tile[1]);
    setValue('ti-kernel', state.kernel_size);
    setValue('ti-size', state.size);
    setValue('ti-stride', state.stride);
    setValue('ti-padding', state.padding);
  },

  draw(res) {
    kernels = res.kernels;
    const tw = kernels[0].length;
    editor.show(
      kernels.flat(),
      kernels.flat().map((_, n) => kernelName(Math.floor(n / tw), n % tw, tw)),
    );
    const [top, , left] = res.params.pads;
    drawMatrix(views.input, res.padded, 'Input (padded)');
    views.input.setHighlights(
      top || left
        ? [{ rows: [], cols: [], frame: [top, left, top + res.input.length, left + res.input[0].length] }]
        : [],
    );
    drawMatrix(views.tile, res.tile_id, 'Kernel used at each output');
    drawMatrix(views.output, res.output, 'Output');
    const { tiled, plain } = res.parameters;
    $('ti-counts').textContent =
      `${tiled} parameters in this tiled layer; a plain convolution with one ` +
      `${res.params.kernel_size.join('×')} kernel has ${plain}.`;
    $('ti-f-tiled').innerHTML = res.formulas.tiled;
    $('ti-f-plain').innerHTML = res.formulas.plain;
  },
};
