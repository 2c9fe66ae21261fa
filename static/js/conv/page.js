// The convolution page: controls -> state -> engine requests -> drawings.
// Live edits repaint every feature map from /api/conv/live (over a WebSocket, painted in the task
// its answer arrives in); the step-through of the selected filter draws /api/conv/trace, fetched
// a chunk of steps at a time once edits pause, and cancelled when the settings move on.

import { latest } from '../api.js';
import { LiveSocket } from '../live-socket.js';
import { KernelEditor } from '../kernel-editor.js';
import { MapView } from '../mapview.js';
import { probe } from '../probe.js';
import { Stepper } from '../stepper.js';
import { renderStep } from '../conv-step.js';
import { StepComposition } from './composition.js';
import { decode, encode } from '../urlstate.js';
import { checkField, numberField, parseNumber } from '../kit/fields.js';
import { markStale, say } from '../kit/notice.js';
import { resizeKernel, withChannels } from '../kernels.js';
import { copyText } from '../clipboard.js';
import { fillTabs, markTab } from '../kit/tabs.js';
import { postJSON, resending, upload } from '../uploads.js';
import { startPage } from '../kit/start.js';

const DATA = JSON.parse(document.getElementById('page-data').textContent);
const $ = (id) => document.getElementById(id);
const PRESETS = Object.fromEntries(DATA.kernels.map((k) => [k.name, k]));
const DEFAULTS = {
  image: 'scene',
  size: 32,
  color: 'gray',
  weight: [[PRESETS.edge.weights]],
  bias: [0],
  stride: [1, 1],
  padding: [1, 1],
  padding_mode: 'zeros',
  dilation: [1, 1],
  relu: false,
  filter: 0,
  step: 0,
};

let state = decode(DEFAULTS, DATA);
const uploads = new Map(); // id -> file name

// ---- requests ---------------------------------------------------------------------------

const requestBody = () => {
  const { filter, step, ...body } = state;
  return body;
};
const traceKey = () => JSON.stringify([requestBody(), state.filter]);
// What the input and padded-input stages depend on: a kernel edit keeps them, and the trace
// after it asks only for the weight.
const inputKey = () => {
  const { image, size, color, padding, padding_mode, stride, dilation, weight } = state;
  const kernel = [weight[0][0].length, weight[0][0][0].length];
  return JSON.stringify([image, size, color, padding, padding_mode, stride, dilation, kernel]);
};

// Errors of requests the user has already overtaken are dropped: a fresher request follows.
// A setting the server refuses leaves no picture of the old settings beside its message.
function showError(err, req) {
  if (req && req.key !== currentKey) return;
  say($('status'), err.message || String(err));
  if (req) stalePictures('Not drawn: settings refused (see above)');
}

function clearError() {
  say($('status'), '');
}

// ---- mistakes ---------------------------------------------------------------------------

// The step-through's pictures, greyed while they show settings that are no longer on screen.
const STEP_PICTURES = ['input-views', 'kernel-views', 'product-views', 'output-view', 'equation'];

// Clear the feature maps and grey the step-through, each labelled with `why`: the numbers on
// screen are not the ones they were drawn from.
function stalePictures(why) {
  for (const m of mapCards) {
    markStale(m.card, why);
    for (const view of [m.conv, m.relu]) {
      if (view.rows)
        view.setData(new Float32Array(view.rows * view.cols).fill(Number.NaN), view.rows, view.cols, {
          filled: 0,
          lo: 0,
          hi: 1,
        });
    }
  }
  // the big input view carries the reason; the smaller views beside it a short word
  for (const id of STEP_PICTURES) markStale($(id), why && (id === 'input-views' ? why : 'not current'));
}

// Every field whose text is not a usable number, marked and named in a sentence.
function fieldProblems() {
  const found = editor.problems(state.filter);
  checkField($('bias'), `The bias of filter ${state.filter + 1}`, {}, found);
  for (const [id, name, min] of FIELDS) {
    if (!$(id).closest('[hidden]')) checkField($(id), name, { int: true, min }, found);
  }
  return found;
}

// While any field is invalid nothing is computed (no old value stands in for a blank cell):
// the message names each mistake, the pictures are cleared or greyed, and replies to requests
// sent before the mistake are dropped.
function holdBack(problems) {
  currentKey = '';
  say($('status'), problems.join(' '));
  stalePictures('Not drawn: a setting cannot be read (see above)');
  if (traceTimer !== null) {
    clearTimeout(traceTimer);
    traceTimer = null;
    probe.busy -= 1;
  }
  runTrace.cancel();
  showPreset();
}

const socket = new LiveSocket('/api/conv/live/ws', '/api/conv/live');
const runLive = latest(
  resending((req) => socket.request(req.body)),
  (res, req) => {
    if (!currentKey) return; // a field is invalid: these maps belong to older settings
    if (req.key === currentKey) clearError();
    drawMaps(res);
  },
  showError,
);

let chunks = new Map(); // chunk number -> trace response, for the current traceKey
let stages = null; // the first response for the current key (carries stages and formulas)
let kept = { key: '', stages: null }; // the input and padded stages, and the inputKey they are for
let currentKey = '';
const runTrace = latest(
  (req, signal) => postJSON('/api/conv/trace', req.body, { signal }),
  (res, req) => {
    if (req.key !== currentKey) return; // settings moved on; a fresher request follows
    clearError();
    for (const id of STEP_PICTURES) markStale($(id), '');
    if (req.body.stages === true) kept = { key: req.inputKey, stages: res.stages };
    else if (req.body.stages) res.stages = { ...kept.stages, ...res.stages };
    if (req.body.stages) stages = res;
    chunks.set(res.chunk, res);
    if (req.body.stages) {
      stepper.setTotal(res.num_steps, state.step);
      $('formula-height').innerHTML = res.formulas.height;
      $('formula-width').innerHTML = res.formulas.width;
      $('formula-parameters').innerHTML = res.formulas.parameters;
      $('torch-line').textContent = res.torch;
    }
    showStep(stepper.index);
  },
  showError,
);

// withStages: the first request after a change, asked by step (the server clamps it to the
// new last step), with the stages the page does not have for these settings; later chunks are
// asked by number and skip the stages.
function requestChunk(chunk, withStages) {
  const where = withStages ? { step: state.step } : { chunk };
  const key = inputKey();
  const wanted = withStages && (kept.key === key ? ['weight'] : true);
  const body = { ...requestBody(), filter: state.filter, ...where, stages: wanted };
  runTrace({ key: currentKey, inputKey: key, body });
}

// Called after every settings change: repaint the maps at once; restart the step trace once the
// edits pause (a burst of typing sends one trace request); the first load's goes out at once.
const TRACE_DELAY_MS = 120;
let traceTimer = null;
let traceDelay = 0;

function changed() {
  showApplicable();
  const problems = fieldProblems();
  if (problems.length) {
    holdBack(problems);
    return;
  }
  clearError();
  currentKey = traceKey();
  runLive({ key: currentKey, body: requestBody() }); // first: the rest can happen while it computes
  runTrace.cancel(); // a trace of the old settings would only hold up the server
  showPreset();
  writeURL();
  updatePoolLink();
  chunks = new Map();
  stages = null;
  if (traceTimer === null) probe.busy += 1; // a trace is due: the page is not idle yet
  clearTimeout(traceTimer);
  traceTimer = setTimeout(() => {
    traceTimer = null;
    probe.busy -= 1;
    requestChunk(null, true);
  }, traceDelay);
  traceDelay = TRACE_DELAY_MS;
}

// The pooling page recomputes this conv (and its ReLU) on the server and pools the selected map.
function updatePoolLink() {
  const q = new URLSearchParams({
    source: 'conv',
    conv: JSON.stringify(requestBody()),
    conv_filter: String(state.filter),
    stride: '[2,2]',
  });
  $('pool-link').href = `/pool?${q}`;
}

// ---- URL --------------------------------------------------------------------------------

// Written once edits pause: replaceState blocks the page for 1 to 10 ms (the browser process is asked),
// time a live answer arriving then would wait. Until it is written the page counts as busy.
let urlTimer = null;
function writeURL() {
  if (urlTimer === null) probe.busy += 1;
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => {
    urlTimer = null;
    probe.busy -= 1;
    window.history.replaceState(null, '', encode(state));
  }, 150);
}

// ---- feature maps -----------------------------------------------------------------------

const mapCards = [];

function drawMaps({ shape, lo, hi, data }) {
  const [layers, filters, rows, cols] = shape;
  while (mapCards.length > filters) {
    const m = mapCards.pop();
    m.conv.destroy();
    m.relu.destroy();
    m.card.remove();
  }
  while (mapCards.length < filters) mapCards.push(makeCard(mapCards.length));
  const size = rows * cols;
  mapCards.forEach((m, f) => {
    m.card.classList.toggle('selected', f === state.filter);
    markStale(m.card, '');
    m.conv.setData(data.subarray(f * size, (f + 1) * size), rows, cols, {
      lo: lo[f],
      hi: hi[f],
      title: `Filter ${f + 1}: ${rows}×${cols}`,
    });
    m.reluBox.hidden = layers < 2;
    if (layers > 1) {
      const o = (filters + f) * size;
      m.relu.setData(data.subarray(o, o + size), rows, cols, {
        lo: lo[filters + f],
        hi: hi[filters + f],
        title: `ReLU(filter ${f + 1})`,
      });
    }
  });
  composition.setStrip(mapCards.map((m) => [m.conv, m.relu]));
}

function makeCard(f) {
  const card = document.createElement('div');
  card.className = 'map-card';
  card.dataset.filter = String(f);
  const convBox = document.createElement('div');
  const reluBox = document.createElement('div');
  card.append(convBox, reluBox);
  $('maps').append(card);
  const onCell = (r, c, kind) => {
    if (kind !== 'click') return;
    const cols = mapCards[f].conv.cols;
    selectFilter(f, r * cols + c); // steps run in row-major order of the output
    document.querySelector('.step-compose').scrollIntoView({ block: 'start' }); // the step is above the maps
  };
  return {
    card,
    reluBox,
    conv: new MapView(convBox, { id: `map-${f}`, target: 200, onCell }),
    relu: new MapView(reluBox, { id: `relu-${f}`, target: 200, onCell }),
  };
}

// ---- step-through -----------------------------------------------------------------------

// the step's parts, laid out and sized to the screen (conv/composition.js)
const composition = new StepComposition({
  onOutputCell: (r, c, kind) => {
    if (kind === 'hover' && stepper.playing) return;
    stepper.pause();
    stepper.go(r * composition.views.output.cols + c);
  },
  redraw: () => showStep(stepper.index),
});

function showStep(i) {
  state.step = i;
  if (!stepper.playing) writeURL();
  if (!stages) return;
  const chunk = Math.floor(i / stages.chunk_steps);
  const res = chunks.get(chunk);
  if (!res) {
    requestChunk(chunk, false);
    $('step-label').textContent = `step ${i + 1} of ${stages.num_steps} (loading…)`;
    return;
  }
  if (composition.stages !== stages) composition.setStages(stages, channelNames(stages.stages.weight.length));
  renderStep({ stages, res, i, views: composition.views, relu: state.relu, filter: state.filter });
  composition.fit();
  // fetch the next chunk ahead of playback so stepping never waits at a chunk boundary
  const next = chunk + 1;
  if (
    i - res.step_offset > 0.75 * stages.chunk_steps &&
    next * stages.chunk_steps < stages.num_steps &&
    !chunks.has(next)
  )
    requestChunk(next, false);
}

const stepper = new Stepper($('stepper'), { onStep: showStep });

// ---- controls ---------------------------------------------------------------------------

function channelNames(n) {
  if (n === 3) return ['R', 'G', 'B'];
  return Array.from({ length: n }, (_, i) => (n === 1 ? 'gray' : `channel ${i}`));
}

// v is null when the cell's text is not a number: the state keeps no stand-in for it and
// changed() names the cell.
const editor = new KernelEditor($('kernel-editor'), (ch, r, c, v) => {
  if (v !== null) state.weight[state.filter][ch][r][c] = v;
  changed();
});

// The preset the selected filter's kernels are (every channel the same preset), or none.
function presetOf(kernels) {
  const same = (k, w) => k.length === w.length && k.every((row, r) => row.every((v, c) => v === w[r][c]));
  return DATA.kernels.find((p) => kernels.every((k) => same(k, p.weights)))?.name || '';
}

// The preset menu shows the kernel's preset, or 'custom' once a cell is edited away from it.
function showPreset() {
  const edited = editor.problems(state.filter).length > 0;
  const name = edited ? '' : presetOf(state.weight[state.filter]);
  $('preset').value = name;
  $('preset').options[0].textContent = 'custom';
  const p = PRESETS[name];
  $('preset-note').textContent = p ? `${p.label}: ${p.description} (${p.source})` : '';
}

function fillSelect(el, items) {
  el.append(...items.map(([value, label]) => new Option(label, value)));
}

// Only the settings that apply: a sample with its own shape (seed 002's) ignores the size, and
// without padding there is no padding mode.
function showApplicable() {
  const sample = DATA.samples.find((s) => s.name === state.image);
  $('size-field').hidden = Boolean(sample && !sample.sized);
  const p = state.padding;
  $('padding-mode-field').hidden = p === 'valid' || (Array.isArray(p) && p[0] === 0 && p[1] === 0);
}

function showControls() {
  showApplicable();
  const image = $('image');
  if (![...image.options].some((o) => o.value === state.image)) {
    image.append(new Option(uploads.get(state.image) || 'uploaded image', state.image));
  }
  image.value = state.image;
  $('size').value = String(state.size);
  document.querySelector(`input[name="color"][value="${state.color}"]`).checked = true;
  const filters = state.weight.map((_, f) => ({ id: String(f), label: String(f + 1) }));
  fillTabs($('filter-tabs'), filters, 'filter', (id) => selectFilter(Number(id), state.step));
  markTab($('filter-tabs'), 'filter', String(state.filter));
  $('step-filter').textContent = String(state.filter + 1);
  const kernels = state.weight[state.filter];
  $('kh').value = String(kernels[0].length);
  $('kw').value = String(kernels[0][0].length);
  editor.show(kernels, channelNames(kernels.length));
  if (document.activeElement !== $('bias')) $('bias').value = String(state.bias[state.filter]);
  const kind = typeof state.padding === 'string' ? state.padding : 'amount';
  $('padding-kind').value = kind;
  $('padding-amount').hidden = kind !== 'amount';
  const setNum = (id, v) => {
    if (document.activeElement !== $(id)) $(id).value = String(v);
  };
  if (kind === 'amount') {
    setNum('pad-h', state.padding[0]);
    setNum('pad-w', state.padding[1]);
  }
  setNum('stride-h', state.stride[0]);
  setNum('stride-w', state.stride[1]);
  setNum('dil-h', state.dilation[0]);
  setNum('dil-w', state.dilation[1]);
  $('padding-mode').value = state.padding_mode;
  $('relu').checked = state.relu;
  $('add-filter').disabled = state.weight.length >= DATA.limits.max_filters;
  $('remove-filter').disabled = state.weight.length <= 1;
}

function update() {
  showControls();
  changed();
}

function selectFilter(f, step) {
  state.filter = f;
  state.step = step;
  update();
}

function setKernelSize(kh, kw) {
  state.weight = state.weight.map((kernels) => kernels.map((k) => resizeKernel(k, kh, kw)));
}

function applyPreset(name) {
  const w = PRESETS[name].weights;
  const kernels = state.weight[state.filter];
  if (w.length !== kernels[0].length || w[0].length !== kernels[0][0].length) setKernelSize(w.length, w[0].length);
  state.weight[state.filter] = kernels.map(() => w.map((row) => [...row]));
}

// The whole-number fields: [id, name in messages, smallest value]. The server checks the largest.
const FIELDS = [
  ['stride-h', 'Stride (rows)', 1],
  ['stride-w', 'Stride (columns)', 1],
  ['pad-h', 'Padding (rows)', 0],
  ['pad-w', 'Padding (columns)', 0],
  ['dil-h', 'Dilation (rows)', 1],
  ['dil-w', 'Dilation (columns)', 1],
];

// A field's number is applied only when it is one; changed() names it when it is not.
function intInput(id, apply) {
  const min = FIELDS.find((f) => f[0] === id)[2];
  numberField($(id)).addEventListener('input', () => {
    const { value } = parseNumber($(id).value, { int: true, min });
    if (value !== undefined) apply(value);
    changed();
  });
}

function bindControls() {
  fillSelect(
    $('image'),
    DATA.samples.map((s) => [s.name, s.name.replaceAll('_', ' ')]),
  );
  fillSelect(
    $('size'),
    DATA.sizes.map((s) => [String(s), `${s}×${s}`]),
  );
  fillSelect(
    $('preset'),
    DATA.kernels.map((k) => [k.name, k.label]),
  );
  const sides = Array.from({ length: DATA.limits.max_kernel_side }, (_, i) => [String(i + 1), String(i + 1)]);
  fillSelect($('kh'), sides);
  fillSelect($('kw'), sides);
  $('examples').replaceChildren(
    ...DATA.examples.map((ex) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = ex.label;
      b.dataset.example = ex.id;
      b.addEventListener('click', () => {
        state = { ...structuredClone(ex.state), filter: 0, step: 0 };
        $('example-note').textContent = ex.note;
        update();
      });
      return b;
    }),
  );

  $('image').addEventListener('change', () => {
    state.image = $('image').value;
    update();
  });
  $('size').addEventListener('change', () => {
    state.size = Number($('size').value);
    update();
  });
  for (const radio of document.querySelectorAll('input[name="color"]')) {
    radio.addEventListener('change', () => {
      state.color = radio.value;
      state.weight = state.weight.map((k) => withChannels(k, state.color === 'rgb' ? 3 : 1));
      update();
    });
  }
  $('upload').addEventListener('change', async () => {
    const file = $('upload').files[0];
    if (!file) return;
    try {
      const res = await upload('/api/images', file);
      uploads.set(res.id, res.name);
      if (![...$('image').options].some((o) => o.value === res.id)) $('image').append(new Option(res.name, res.id));
      state.image = res.id;
      update();
    } catch (err) {
      showError(err);
    }
  });
  $('add-filter').addEventListener('click', () => {
    const kernels = state.weight[state.filter];
    const identity = resizeKernel(PRESETS.identity.weights, kernels[0].length, kernels[0][0].length);
    state.weight.push(kernels.map(() => identity.map((r) => [...r])));
    state.bias.push(0);
    selectFilter(state.weight.length - 1, 0);
  });
  $('remove-filter').addEventListener('click', () => {
    state.weight.splice(state.filter, 1);
    state.bias.splice(state.filter, 1);
    selectFilter(Math.max(0, state.filter - 1), 0);
  });
  $('preset').addEventListener('change', () => {
    if ($('preset').value) applyPreset($('preset').value);
    update();
  });
  const resize = () => {
    setKernelSize(Number($('kh').value), Number($('kw').value));
    update();
  };
  $('kh').addEventListener('change', resize);
  $('kw').addEventListener('change', resize);
  numberField($('bias')).addEventListener('input', () => {
    const { value } = parseNumber($('bias').value);
    if (value !== undefined) state.bias[state.filter] = value;
    changed();
  });
  intInput('stride-h', (v) => {
    state.stride = [v, state.stride[1]];
  });
  intInput('stride-w', (v) => {
    state.stride = [state.stride[0], v];
  });
  intInput('dil-h', (v) => {
    state.dilation = [v, state.dilation[1]];
  });
  intInput('dil-w', (v) => {
    state.dilation = [state.dilation[0], v];
  });
  intInput('pad-h', (v) => {
    state.padding = [v, Array.isArray(state.padding) ? state.padding[1] : v];
  });
  intInput('pad-w', (v) => {
    state.padding = [Array.isArray(state.padding) ? state.padding[0] : v, v];
  });
  $('padding-kind').addEventListener('change', () => {
    const kind = $('padding-kind').value;
    // a field that is not a number is named by changed() before anything is computed
    const amount = (id) => parseNumber($(id).value, { int: true, min: 0 }).value ?? 0;
    state.padding = kind === 'amount' ? [amount('pad-h'), amount('pad-w')] : kind;
    update();
  });
  $('padding-mode').addEventListener('change', () => {
    state.padding_mode = $('padding-mode').value;
    changed();
  });
  $('relu').addEventListener('change', () => {
    state.relu = $('relu').checked;
    changed();
  });
  $('copy-torch').addEventListener('click', () =>
    copyText($('torch-line').textContent, $('copied'), 'PyTorch line copied.'),
  );
  $('copy-link').addEventListener('click', async () => {
    window.history.replaceState(null, '', encode(state));
    copyText(window.location.href, $('copied'), 'Link copied: it reopens this exact view.');
  });
}

function start() {
  bindControls();
  update();
}

// maps paint from the engine's numbers without waiting for Plotly.js (kit/start.js)
startPage(start);
