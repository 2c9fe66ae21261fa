// The normalization page's controls bound to its state. Keeping the settings consistent with
// each other when one changes (one offset and scale per channel, groups that divide the
// channels, two different samples for the demo) happens here; the server checks the rest.

import {
  $,
  bindCheck,
  bindInt,
  bindList,
  bindNumber,
  bindRadios,
  bindSelect,
  range,
  setRadio,
  setValue,
} from '../family/controls.js';

export { $ };

const WEIGHT_KINDS = ['weight_std', 'weight_norm'];
const LABELS = {
  tensor: { batch: 'Batch N', channels: 'Channels C', size: 'Height = width' },
  weight: { batch: 'Out channels C_out', channels: 'In channels C_in', size: 'Kernel size k' },
};

function options(id, values, label = String) {
  const el = $(id);
  const wanted = values.map(String).join(',');
  if (el.dataset.values === wanted) return;
  el.dataset.values = wanted;
  el.replaceChildren(...values.map((v) => new Option(label(v), String(v))));
}

const divisors = (n) => range(1, n).filter((d) => n % d === 0);

// Settings that follow from others: called after every edit, before the request.
export function reconcile(state, data) {
  const c = state.channels;
  for (const [key, defaults] of [
    ['offsets', data.offsets],
    ['scales', data.scales],
  ]) {
    const list = state[key].slice(0, c);
    while (list.length < c) list.push(defaults[list.length % defaults.length]);
    state[key] = list;
  }
  if (c % state.num_groups) state.num_groups = Math.max(...divisors(c).filter((d) => d <= state.num_groups));
  if (state.batch < 2) state.perturb = false;
  if (state.watch >= state.batch) state.watch = 0;
  if (state.change >= state.batch || state.change === state.watch)
    state.change = (state.watch + 1) % Math.max(2, state.batch);
}

export function bindControls(state, data, changed) {
  const L = data.limits;
  options('batch', range(1, L.max_norm_batch));
  options('channels', range(1, L.max_norm_channels));
  options('size', range(2, L.max_norm_side));
  const int = (v) => Number(v);
  bindSelect(
    'batch',
    (v) => {
      state.batch = v;
    },
    changed,
    int,
  );
  bindSelect(
    'channels',
    (v) => {
      state.channels = v;
    },
    changed,
    int,
  );
  bindSelect(
    'size',
    (v) => {
      state.size = v;
    },
    changed,
    int,
  );
  bindList(
    'offsets',
    (v) => {
      state.offsets = v;
    },
    changed,
  );
  bindList(
    'scales',
    (v) => {
      state.scales = v;
    },
    changed,
  );
  bindNumber(
    'sample-share',
    (v) => {
      state.sample_share = v;
    },
    changed,
  );
  bindInt(
    'seed',
    (v) => {
      state.seed = v;
    },
    changed,
  );
  bindSelect(
    'num-groups',
    (v) => {
      state.num_groups = v;
    },
    changed,
    int,
  );
  bindSelect(
    'normalized-shape',
    (v) => {
      state.normalized_shape = v;
    },
    changed,
  );
  for (const [id, key] of [
    ['gamma', 'gamma'],
    ['beta', 'beta'],
    ['eps', 'eps'],
    ['momentum', 'momentum'],
    ['lrn-alpha', 'lrn_alpha'],
    ['lrn-beta', 'lrn_beta'],
    ['lrn-k', 'lrn_k'],
    ['g', 'g'],
    ['change-by', 'change_by'],
  ]) {
    bindNumber(
      id,
      (v) => {
        state[key] = v;
      },
      changed,
    );
  }
  for (const [id, key] of [
    ['batches', 'batches'],
    ['lrn-size', 'lrn_size'],
    ['small-batch', 'small_batch'],
    ['large-batch', 'large_batch'],
    ['trials', 'trials'],
  ]) {
    bindInt(
      id,
      (v) => {
        state[key] = v;
      },
      changed,
    );
  }
  bindRadios(
    'training',
    (v) => {
      state.training = v === '1';
    },
    changed,
  );
  bindRadios(
    'histogram',
    (v) => {
      state.histogram = v;
    },
    changed,
  );
  bindCheck(
    'perturb',
    (v) => {
      state.perturb = v;
    },
    changed,
  );
  bindSelect(
    'watch',
    (v) => {
      state.watch = v;
    },
    changed,
    int,
  );
  bindSelect(
    'change',
    (v) => {
      state.change = v;
    },
    changed,
    int,
  );
}

// Write the state into the controls and show only those the current kind reads.
export function showControls(state) {
  const weights = WEIGHT_KINDS.includes(state.kind);
  for (const el of document.querySelectorAll('[data-kinds]'))
    el.hidden = !el.dataset.kinds.split(' ').includes(state.kind);
  for (const el of document.querySelectorAll('[data-label]'))
    el.textContent = LABELS[weights ? 'weight' : 'tensor'][el.dataset.label];
  $('tensor-shape').textContent = `(${state.batch}, ${state.channels}, ${state.size}, ${state.size})`;
  options('num-groups', divisors(state.channels));
  options('watch', range(0, state.batch - 1), (v) => `sample ${v}`);
  options('change', range(0, state.batch - 1), (v) => `${v}`);
  for (const [id, key] of [
    ['batch', 'batch'],
    ['channels', 'channels'],
    ['size', 'size'],
    ['offsets', 'offsets'],
    ['scales', 'scales'],
    ['sample-share', 'sample_share'],
    ['seed', 'seed'],
    ['num-groups', 'num_groups'],
    ['normalized-shape', 'normalized_shape'],
    ['gamma', 'gamma'],
    ['beta', 'beta'],
    ['eps', 'eps'],
    ['momentum', 'momentum'],
    ['batches', 'batches'],
    ['lrn-size', 'lrn_size'],
    ['lrn-alpha', 'lrn_alpha'],
    ['lrn-beta', 'lrn_beta'],
    ['lrn-k', 'lrn_k'],
    ['g', 'g'],
    ['perturb', 'perturb'],
    ['watch', 'watch'],
    ['change', 'change'],
    ['change-by', 'change_by'],
    ['small-batch', 'small_batch'],
    ['large-batch', 'large_batch'],
    ['trials', 'trials'],
  ]) {
    setValue(id, state[key]);
  }
  setRadio('training', state.training ? '1' : '0');
  setRadio('histogram', state.histogram);
  $('perturb').disabled = state.batch < 2;
  // one sample has no others to depend on: nothing to change or watch
  document.querySelector('#dependence-section .shift-controls').hidden = state.batch < 2;
  $('dependence-section').hidden = weights;
  $('training-section').hidden = state.kind !== 'batch';
}
