// The dense-layers page: controls -> state (kept in the URL) -> engine requests -> drawings.
// /api/dense/plane gives every layer's maps and the first layer's lines, /api/dense/point one
// layer's weighted sums at the stepper's point, /api/dense/parameters the count and
// /api/dense/init both trainings. Every number drawn comes from those answers.

import { latest, postJSON } from '../api.js';
import { Stepper } from '../stepper.js';
import { copyText } from '../clipboard.js';
import { probe } from '../probe.js';
import { encode, fromAddress } from '../typed-url.js';
import { colourTarget, drawPlane, lineThrough } from './plane.js';
import { LayerMaps } from './maps.js';
import { LayerEditor } from './editor.js';
import { stepEquation, stepLabel, stepTable } from './step.js';
import { drawCount, parseSizes } from './count.js';
import { drawInit } from './init.js';
import { PRESENTER_EVENT } from '../classroom/mode.js';
import { startPage } from '../kit/start.js';

const $ = (id) => document.getElementById(id);
const DATA = JSON.parse($('page-data').textContent);
const LIMITS = DATA.limits;
const DEFAULTS = {
  layers: DATA.defaults.layers,
  point: DATA.defaults.point,
  layer: DATA.defaults.layer,
  step: 0,
  colour: '',
  show: 'post',
  sizes: DATA.defaults.sizes,
  init: DATA.defaults.init,
};
const state = fromAddress(DEFAULTS);
const answers = { plane: null, point: null, count: null, init: null };
probe.dense = answers;

// ---- errors and the URL ------------------------------------------------------------------------

const keys = { plane: '', point: '', count: '', init: '' };
function failed(kind) {
  return (err, req) => {
    if (req.key === keys[kind]) $('status').textContent = err.message || String(err);
  };
}
const clearError = () => {
  $('status').textContent = '';
};

let urlTimer = null;
function writeURL() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => window.history.replaceState(null, '', encode(state, DEFAULTS)), 150);
}

// ---- requests ----------------------------------------------------------------------------------

const runPlane = latest(
  (req) => postJSON('/api/dense/plane', req.body),
  (res, req) => {
    if (req.key !== keys.plane) return;
    clearError();
    answers.plane = res;
    drawPlaneSection();
  },
  failed('plane'),
);

const runPoint = latest(
  (req) => postJSON('/api/dense/point', req.body),
  (res, req) => {
    if (req.key !== keys.point) return;
    answers.point = res;
    stepper.setTotal(res.num_steps, state.step);
  },
  failed('point'),
);

const runCount = latest(
  (req) => postJSON('/api/dense/parameters', req.body),
  (res, req) => {
    if (req.key === keys.count) {
      clearError();
      answers.count = res;
      drawCount(res);
    }
  },
  failed('count'),
);

const runInit = latest(
  (req) => postJSON('/api/dense/init', req.body),
  (res, req) => {
    if (req.key === keys.init) {
      clearError();
      answers.init = res;
      drawInit(res);
    }
  },
  failed('init'),
);

function request(kind, run, body) {
  keys[kind] = JSON.stringify(body);
  run({ key: keys[kind], body });
}

function networkChanged() {
  writeURL();
  editor.show(state.layers);
  request('plane', runPlane, { layers: state.layers });
  pointChanged();
}

function pointChanged() {
  writeURL();
  state.layer = Math.min(state.layer, state.layers.length - 1);
  fillLayerSelect();
  request('point', runPoint, { layers: state.layers, point: state.point, layer: state.layer });
}

const countChanged = () => {
  writeURL();
  request('count', runCount, { sizes: state.sizes });
};
const initChanged = () => {
  writeURL();
  request('init', runInit, state.init);
};

// ---- drawing -------------------------------------------------------------------------------------

let planeBound = false;
let highlighted = -1; // the first-layer neuron whose line is drawn thick
let lineNeurons = []; // shape k of the plane is neuron lineNeurons[k] of the first layer
const maps = new LayerMaps($('layer-maps'), (l, j) => {
  state.colour = `${l},${j}`;
  writeURL();
  drawPlaneSection();
});

function currentNeuron() {
  const res = answers.point;
  return res && res.layer === 0 && res.steps.neuron.length
    ? res.steps.neuron[Math.min(state.step, res.num_steps - 1)]
    : -1;
}

// The plane's height: the first screen's room below its top (the page opens at its top) less the
// colour row under it; at most half the stage's width beside the weighted sums (all of it on a phone).
function planeSide() {
  const el = $('plane');
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
  const stage = el.closest('.stage').clientWidth;
  const across = stage < 700 ? stage - 40 : stage * 0.5 - 40;
  const down = window.innerHeight - (el.getBoundingClientRect().top + window.scrollY) - 5 * rem; // 2 rows
  return Math.round(Math.max(280, Math.min(across, down, 640)));
}
let resizeTimer = null;
const redrawPlane = () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(drawPlaneSection, 100);
};
window.addEventListener('resize', redrawPlane);
document.addEventListener(PRESENTER_EVENT, redrawPlane);

function drawPlaneSection() {
  const res = answers.plane;
  if (!res) return;
  const target = colourTarget(res, state.colour);
  fillColourSelect(res, target);
  const layer = res.layers[target.layer];
  const what =
    target.layer === res.layers.length - 1 && res.sizes.at(-1) === 1
      ? 'the output'
      : `layer ${target.layer + 1}, neuron ${target.neuron + 1}`;
  const title = `${what}, ${state.show === 'pre' ? 'before' : 'after'} ${layer.activation}; black: the output's region`;
  highlighted = currentNeuron();
  lineNeurons = drawPlane($('plane'), res, target, state.show, state.point, highlighted, title, planeSide());
  if (!planeBound) {
    bindPlane($('plane'));
    planeBound = true;
  }
  maps.draw(res, state.show, target);
  $('plane-note').textContent =
    `Lines: the first layer's neurons, w·x + b = 0; each arrow points to the side where ` +
    `w·x + b > 0. ${res.layers.map((l, i) => `Layer ${i + 1}: ${l.words}.`).join(' ')}`;
  $('activation-formulas').innerHTML = res.layers.map((l, i) => `<p>layer ${i + 1}: ${l.formula}</p>`).join('');
}

function fillColourSelect(res, target) {
  const select = $('colour-by');
  const options = res.layers.flatMap((l, i) => l.post.map((_, j) => [`${i},${j}`, `layer ${i + 1}, neuron ${j + 1}`]));
  if (select.dataset.shape !== res.sizes.join('-')) {
    select.replaceChildren(...options.map(([v, t]) => new Option(t, v)));
    select.dataset.shape = res.sizes.join('-');
  }
  select.value = `${target.layer},${target.neuron}`;
}

function fillLayerSelect() {
  const select = $('step-layer');
  if (select.options.length !== state.layers.length) {
    select.replaceChildren(...state.layers.map((_, l) => new Option(`layer ${l + 1}`, String(l))));
  }
  select.value = String(state.layer);
  for (const [id, k] of [
    ['pt-x1', 0],
    ['pt-x2', 1],
  ]) {
    if ($(id) !== document.activeElement) $(id).value = String(state.point[k]);
  }
}

function showStep(i) {
  state.step = i;
  if (!stepper.playing) writeURL();
  const res = answers.point;
  if (!res) return;
  $('step-equation').innerHTML = stepEquation(res, i);
  $('step-label').textContent = stepLabel(res, i);
  stepTable($('step-table'), res, i);
  if (answers.plane && currentNeuron() !== highlighted) drawPlaneSection(); // thicken the neuron's line
}

const stepper = new Stepper($('stepper'), { onStep: showStep });

// ---- editing the network -------------------------------------------------------------------------

const round = (v) => Math.round(v * 1000) / 1000 + 0;

function resize(l, delta) {
  const layers = state.layers;
  const layer = layers[l],
    next = layers[l + 1];
  const n = layer.weight.length;
  if (delta > 0 && n < LIMITS.max_dense_neurons) {
    const inputs = layer.weight[0].length;
    const angle = (n * Math.PI) / 4; // a new line turned from the others
    layer.weight.push(l === 0 ? [round(Math.cos(angle)), round(Math.sin(angle))] : Array(inputs).fill(1));
    layer.bias.push(l === 0 ? 0 : 0.5 - inputs);
    if (next) next.weight.forEach((row) => row.push(0));
  } else if (delta < 0 && n > 1) {
    layer.weight.pop();
    layer.bias.pop();
    if (next) next.weight.forEach((row) => row.pop());
  }
  networkChanged();
}

function addLayer() {
  if (state.layers.length >= LIMITS.max_dense_layers) return;
  const inputs = state.layers.at(-1).weight.length; // a new output neuron: the OR of the last layer
  state.layers.push({ weight: [Array(inputs).fill(1)], bias: [-0.5], activation: 'step' });
  state.colour = '';
  networkChanged();
}

function removeLayer() {
  if (state.layers.length <= 1) return;
  state.layers.pop();
  state.colour = '';
  networkChanged();
}

// A dragged line: its new weights and bias from the moved segment (the engine recomputes the rest).
function dragged(event) {
  const moved = new Set(
    Object.keys(event)
      .map((k) => k.match(/^shapes\[(\d+)\]/)?.[1])
      .filter(Boolean),
  );
  if (!moved.size) return;
  const shapes = $('plane').layout.shapes;
  for (const k of moved) {
    const j = lineNeurons[Number(k)];
    const layer = state.layers[0];
    const fit = j === undefined ? null : lineThrough(shapes[Number(k)], layer.weight[j]);
    if (fit) {
      layer.weight[j] = fit.weights;
      layer.bias[j] = fit.bias;
    }
  }
  networkChanged();
}

let editor = null;

function button(label, data, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  Object.assign(b.dataset, data);
  b.addEventListener('click', onClick);
  return b;
}

// A number input that reports each value that parses and marks the ones that do not.
function onNumber(id, apply) {
  $(id).addEventListener('input', () => {
    const ok = $(id).value.trim() !== '' && Number.isFinite($(id).valueAsNumber);
    $(id).classList.toggle('invalid', !ok);
    if (ok) apply($(id).valueAsNumber);
  });
}

function bindPage() {
  editor = new LayerEditor($('layer-editor'), DATA.activations, {
    onEdit: (l, j, i, v) => {
      const layer = state.layers[l];
      if (i === layer.weight[0].length) layer.bias[j] = v;
      else layer.weight[j][i] = v;
      networkChanged();
    },
    onActivation: (l, name) => {
      state.layers[l].activation = name;
      networkChanged();
    },
    onResize: resize,
  });
  $('presets').replaceChildren(
    ...DATA.presets.map((preset) =>
      button(preset.label, { preset: preset.id }, () => {
        Object.assign(state, { layers: structuredClone(preset.state.layers), colour: '', layer: 0, step: 0 });
        $('example-note').textContent = preset.note;
        networkChanged();
      }),
    ),
  );
  $('add-layer').addEventListener('click', addLayer);
  $('remove-layer').addEventListener('click', removeLayer);
  $('colour-by').addEventListener('change', () => {
    state.colour = $('colour-by').value;
    writeURL();
    drawPlaneSection();
  });
  for (const radio of document.querySelectorAll('input[name="show"]')) {
    radio.checked = radio.value === state.show;
    radio.addEventListener('change', () => {
      state.show = radio.value;
      writeURL();
      drawPlaneSection();
    });
  }
  for (const [id, k] of [
    ['pt-x1', 0],
    ['pt-x2', 1],
  ]) {
    onNumber(id, (v) => {
      state.point = k ? [state.point[0], v] : [v, state.point[1]];
      pointChanged();
      drawPlaneSection();
    });
  }
  $('step-layer').addEventListener('change', () => {
    state.layer = Number($('step-layer').value);
    state.step = 0;
    pointChanged();
  });
  bindCount();
  bindInit();
  $('copy-link').addEventListener('click', () => {
    window.history.replaceState(null, '', encode(state, DEFAULTS));
    copyText(window.location.href, $('copied'), 'Link copied: it reopens this exact view.');
  });
}

function bindCount() {
  $('sizes').value = state.sizes.join(', ');
  $('sizes').addEventListener('input', () => {
    const sizes = parseSizes($('sizes').value);
    $('sizes').classList.toggle('invalid', !sizes);
    if (sizes) {
      state.sizes = sizes;
      countChanged();
    }
  });
  $('count-presets').replaceChildren(
    ...DATA.count_presets.map((preset) =>
      button(preset.label, { sizes: preset.id }, () => {
        state.sizes = [...preset.sizes];
        $('sizes').value = state.sizes.join(', ');
        $('sizes').classList.remove('invalid');
        countChanged();
      }),
    ),
  );
}

const INIT_FIELDS = {
  hidden: 'init-hidden',
  epochs: 'init-epochs',
  lr: 'init-lr',
  constant: 'init-constant',
  seed: 'init-seed',
};

function bindInit() {
  $('init-kind').replaceChildren(...Object.entries(DATA.toy_sets).map(([k, text]) => new Option(text, k)));
  $('init-kind').value = state.init.kind;
  $('init-activation').value = state.init.activation;
  for (const [key, id] of [
    ['kind', 'init-kind'],
    ['activation', 'init-activation'],
  ]) {
    $(id).addEventListener('change', () => {
      state.init = { ...state.init, [key]: $(id).value };
      initChanged();
    });
  }
  for (const [key, id] of Object.entries(INIT_FIELDS)) {
    $(id).value = String(state.init[key]);
    onNumber(id, (v) => {
      state.init = { ...state.init, [key]: v };
    });
  }
  $('init-run').addEventListener('click', initChanged);
}

function start() {
  bindPage();
  networkChanged();
  countChanged();
  initChanged();
}

// The plane's own events, bound once Plotly has made the div a plot (it adds `on` to it).
function bindPlane(gd) {
  gd.on('plotly_relayout', dragged);
  gd.on('plotly_click', (ev) => {
    const p = ev.points?.[0];
    if (!p) return;
    state.point = [round(p.x), round(p.y)];
    pointChanged();
    drawPlaneSection();
  });
}

// the first picture is a Plotly chart: start once Plotly.js is there too (kit/start.js)
startPage(start, { plotly: true });
