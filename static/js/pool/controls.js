// The pooling page's settings panel: each control edits the shared state and reports the
// change at once (no submit button); a value that does not parse is marked and not sent.
// Only the controls the current kind reads are shown.

import { KernelEditor } from '../kernel-editor.js';

export const $ = (id) => document.getElementById(id);

const PAIRS = {
  kernel_size: ['k-h', 'k-w'],
  stride: ['s-h', 's-w'],
  padding: ['p-h', 'p-w'],
  dilation: ['d-h', 'd-w'],
  output_size: ['o-h', 'o-w'],
};
const NUMBERS = { norm_type: 'norm', mix: 'mix', seed: 'seed' };
const CHECKS = { ceil_mode: 'ceil', count_include_pad: 'count-pad', training: 'training' };
const BOX = ['box-x1', 'box-y1', 'box-x2', 'box-y2'];

const pair = (v) => (Array.isArray(v) ? v : [v, v]);
const readInt = (el) => (Number.isInteger(el.valueAsNumber) ? el.valueAsNumber : undefined);
const readNumber = (el) => (el.value.trim() !== '' && Number.isFinite(el.valueAsNumber) ? el.valueAsNumber : undefined);

function parseLevels(text) {
  const values = text
    .split(/[\s,;]+/)
    .filter((s) => s !== '')
    .map(Number);
  return values.length && values.every(Number.isInteger) ? values : undefined;
}

function bind(id, read, apply, changed, event = 'input') {
  const el = $(id);
  el.addEventListener(event, () => {
    const v = read(el);
    el.classList.toggle('invalid', v === undefined);
    if (v !== undefined) {
      apply(v);
      changed();
    }
  });
}

function setValue(id, value) {
  const el = $(id);
  if (el === document.activeElement) return;
  if (el.type === 'checkbox') el.checked = Boolean(value);
  else el.value = value === null ? '' : String(value);
  el.classList.remove('invalid');
}

function fill(id, items) {
  const el = $(id);
  if (!el.options.length) el.append(...items.map(([value, label]) => new Option(label, value)));
}

// The matrix resized to rows x cols, keeping the top-left numbers and adding zeros.
function resized(matrix, rows, cols) {
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => matrix[r]?.[c] ?? 0));
}

export function bindControls({ state, data, changed, update, uploads, showError, upload }) {
  const limits = data.limits;
  const sides = Array.from({ length: limits.max_pool_matrix_side }, (_, i) => [String(i + 1), String(i + 1)]);
  fill('m-rows', sides);
  fill('m-cols', sides);
  fill(
    'image',
    data.samples.map((s) => [s.name, s.name.replaceAll('_', ' ')]),
  );
  fill(
    'size',
    data.sizes.map((s) => [String(s), `${s}×${s}`]),
  );
  fill('pyramid-mode', data.pyramid_modes);
  fill(
    'shift-px',
    Array.from({ length: limits.max_shift }, (_, i) => [String(i + 1), String(i + 1)]),
  );

  const editor = new KernelEditor($('matrix-editor'), (_, r, c, v) => {
    state.matrix[r][c] = v;
    changed();
  });
  const resize = () => {
    state.matrix = resized(state.matrix, Number($('m-rows').value), Number($('m-cols').value));
    update();
  };
  $('m-rows').addEventListener('change', resize);
  $('m-cols').addEventListener('change', resize);

  for (const name of ['mode', 'source']) {
    for (const radio of document.querySelectorAll(`input[name="${name}"]`)) {
      radio.addEventListener('change', () => {
        state[name] = radio.value;
        update();
      });
    }
  }
  $('image').addEventListener('change', () => {
    state.image = $('image').value;
    changed();
  });
  $('size').addEventListener('change', () => {
    state.size = Number($('size').value);
    changed();
  });
  $('upload').addEventListener('change', async () => {
    const file = $('upload').files[0];
    if (!file) return;
    try {
      const res = await upload('/api/images', file);
      uploads.set(res.id, res.name);
      state.image = res.id;
      update();
    } catch (err) {
      showError(err);
    }
  });

  for (const [key, [h, w]] of Object.entries(PAIRS)) {
    bind(
      h,
      readInt,
      (v) => {
        state[key] = [v, pair(state[key] ?? v)[1]];
      },
      changed,
    );
    bind(
      w,
      readInt,
      (v) => {
        state[key] = [pair(state[key] ?? v)[0], v];
      },
      changed,
    );
  }
  for (const [key, id] of Object.entries(NUMBERS))
    bind(
      id,
      readNumber,
      (v) => {
        state[key] = v;
      },
      changed,
    );
  for (const [key, id] of Object.entries(CHECKS))
    bind(
      id,
      (el) => el.checked,
      (v) => {
        state[key] = v;
      },
      changed,
      'change',
    );
  bind(
    'divisor',
    (el) => (el.value.trim() === '' ? null : readInt(el)),
    (v) => {
      state.divisor_override = v;
    },
    changed,
  );
  bind(
    'levels',
    (el) => parseLevels(el.value),
    (v) => {
      state.levels = v;
    },
    changed,
  );
  bind(
    'pyramid-mode',
    (el) => el.value,
    (v) => {
      state.pyramid_mode = v;
    },
    changed,
    'change',
  );
  BOX.forEach((id, i) =>
    bind(
      id,
      readInt,
      (v) => {
        state.box = state.box.map((b, j) => (j === i ? v : b));
      },
      changed,
    ),
  );
  const shift = () => {
    const [down, right] = $('shift-dir').value.split(',').map(Number);
    const px = Number($('shift-px').value);
    state.shift = [down * px, right * px];
  };
  bind('shift-dir', (el) => el.value, shift, changed, 'change');
  bind('shift-px', (el) => el.value, shift, changed, 'change');
  return editor;
}

// Write the state into the controls and show those the kind (or the side-by-side mode) reads.
export function showControls(state, data, editor, uploads) {
  const kind = data.kinds.find((k) => k.id === state.kind) || data.kinds[0];
  const reads = new Set(state.mode === 'compare' ? data.compare_controls : kind.controls);
  for (const el of document.querySelectorAll('[data-control]')) el.hidden = !reads.has(el.dataset.control);
  $('window-controls').hidden = reads.size === 0;
  for (const name of ['mode', 'source']) {
    const radio = document.querySelector(`input[name="${name}"][value="${state[name]}"]`);
    if (radio) radio.checked = true;
  }
  for (const el of document.querySelectorAll('[data-source]')) el.hidden = el.dataset.source !== state.source;
  // a conv feature map arrives by the conv page's link; until then there is none to choose
  const conv = document.querySelector('input[name="source"][value="conv"]');
  conv.disabled = !state.conv;
  conv.closest('label').hidden = !state.conv; // only a conv page's link brings one
  if (state.conv)
    $('conv-note').textContent = "The conv page's feature map, recomputed on the server (shown below the step).";
  $('m-rows').value = String(state.matrix.length);
  $('m-cols').value = String(state.matrix[0].length);
  editor.show([state.matrix], ['input']);
  if (![...$('image').options].some((o) => o.value === state.image)) {
    $('image').append(new Option(uploads.get(state.image) || 'uploaded image', state.image));
  }
  $('image').value = state.image;
  $('size').value = String(state.size);
  for (const [key, [h, w]] of Object.entries(PAIRS)) {
    const v = pair(state[key] ?? state.kernel_size);
    setValue(h, v[0]);
    setValue(w, v[1]);
  }
  for (const [key, id] of Object.entries(NUMBERS)) setValue(id, state[key]);
  for (const [key, id] of Object.entries(CHECKS)) setValue(id, state[key]);
  setValue('divisor', state.divisor_override);
  setValue('levels', state.levels.join(', '));
  setValue('pyramid-mode', state.pyramid_mode);
  BOX.forEach((id, i) => setValue(id, state.box[i]));
  const [down, right] = state.shift;
  const px = Math.max(Math.abs(down), Math.abs(right));
  $('shift-dir').value = `${Math.sign(down)},${Math.sign(right)}`;
  $('shift-px').value = String(px);
}
