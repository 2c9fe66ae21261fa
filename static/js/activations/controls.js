// The activations page's settings: each control edits the shared state and reports the change at
// once; a value that does not parse is marked and not sent. Only the controls the current kind
// reads are shown. The maxout pieces and the softmax vector are small editable lists.

export const $ = (id) => document.getElementById(id);

const SHOWN = {
  sigmoid: ['none', 'curve'],
  tanh: ['none', 'curve'],
  relu: ['none', 'curve'],
  leaky_relu: ['negative_slope', 'curve'],
  prelu: ['weight', 'curve'],
  elu: ['alpha', 'curve'],
  gelu: ['approximate', 'curve'],
  maxout: ['pieces', 'curve'],
  softmax: ['softmax'],
};
// state key -> input id, and which request the key belongs to
const NUMBERS = {
  negative_slope: ['negative-slope', 'curve'],
  weight: ['prelu-weight', 'curve'],
  alpha: ['alpha', 'curve'],
  threshold: ['threshold', 'curve'],
  x_min: ['x-min', 'curve'],
  x_max: ['x-max', 'curve'],
  at: ['at-x', 'point'],
  temperature: ['temperature', 'softmax'],
  lr: ['dead-lr', 'dead'],
  neurons: ['dead-neurons', 'dead'],
  steps: ['dead-steps', 'dead'],
  bias_shift: ['dead-bias', 'dead'],
  dead_slope: ['dead-slope', 'dead'],
  seed: ['dead-seed', 'dead'],
  gain: ['gain', 'curve'],
};
const SELECTS = { approximate: 'approximate', image: 'image', size: 'size', kernel: 'kernel' };

const readNumber = (el) => (el.value.trim() !== '' && Number.isFinite(el.valueAsNumber) ? el.valueAsNumber : undefined);

function fill(id, items) {
  const el = $(id);
  if (!el.options.length) el.append(...items.map(([value, label]) => new Option(label, value)));
}

function setValue(el, value) {
  if (el === document.activeElement) return;
  el.value = String(value);
  el.classList.remove('invalid');
}

function numberInput(value, label, onValue) {
  const input = Object.assign(document.createElement('input'), { type: 'number', step: '0.1', value: String(value) });
  input.setAttribute('aria-label', label);
  input.addEventListener('input', () => {
    const v = readNumber(input);
    input.classList.toggle('invalid', v === undefined);
    if (v !== undefined) onValue(v);
  });
  return input;
}

// changed(part): part is 'curve' (the curve, point and map), 'point', 'softmax' or 'dead'.
export function bindControls(state, data, changed) {
  fill(
    'image',
    data.samples.map((s) => [s.name, s.name.replaceAll('_', ' ')]),
  );
  fill(
    'size',
    data.sizes.map((s) => [String(s), `${s}×${s}`]),
  );
  fill(
    'kernel',
    data.kernels.map((k) => [k.name, k.label]),
  );
  for (const [key, [id, part]] of Object.entries(NUMBERS)) {
    const el = $(id);
    el.addEventListener(part === 'dead' ? 'change' : 'input', () => {
      const v = readNumber(el);
      el.classList.toggle('invalid', v === undefined);
      if (v !== undefined) {
        state[key] = v;
        changed(part);
      }
    });
  }
  for (const [key, id] of Object.entries(SELECTS)) {
    $(id).addEventListener('change', () => {
      state[key] = key === 'size' ? Number($(id).value) : $(id).value;
      changed('curve');
    });
  }
  const resize = (key, add, part, fresh) => {
    const limit = key === 'pieces' ? data.limits.max_maxout_pieces : data.limits.max_softmax_length;
    if (add && state[key].length < limit) state[key].push(fresh());
    if (!add && state[key].length > 1) state[key].pop();
    changed(part, true);
  };
  $('piece-add').addEventListener('click', () => resize('pieces', true, 'curve', () => [0, 0]));
  $('piece-remove').addEventListener('click', () => resize('pieces', false, 'curve'));
  $('softmax-add').addEventListener('click', () => resize('z', true, 'softmax', () => 0));
  $('softmax-remove').addEventListener('click', () => resize('z', false, 'softmax'));
}

// Show the controls of state.kind and write the state into every input (lists rebuilt when `lists`).
export function showControls(state, changed, lists) {
  const shown = SHOWN[state.kind];
  for (const el of document.querySelectorAll('[data-control]')) el.hidden = !shown.includes(el.dataset.control);
  for (const [key, [id]] of Object.entries(NUMBERS)) setValue($(id), state[key]);
  for (const [key, id] of Object.entries(SELECTS)) setValue($(id), state[key]);
  if (!lists) return;
  $('pieces-editor').replaceChildren(
    ...state.pieces.map((piece, j) => {
      const row = document.createElement('div');
      row.className = 'row';
      row.append(
        `${j + 1}: w `,
        numberInput(piece[0], `piece ${j + 1} w`, (v) => {
          piece[0] = v;
          changed('curve');
        }),
        ' b ',
        numberInput(piece[1], `piece ${j + 1} b`, (v) => {
          piece[1] = v;
          changed('curve');
        }),
      );
      return row;
    }),
  );
  $('softmax-inputs').replaceChildren(
    ...state.z.map((v, i) =>
      numberInput(v, `z ${i + 1}`, (value) => {
        state.z[i] = value;
        changed('softmax');
      }),
    ),
  );
}
