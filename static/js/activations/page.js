// The activations page: controls -> state (kept in the URL) -> engine requests -> drawings.
// /api/activations/curve gives f, f' and the saturated bands, /point one x with its numbers,
// /map a conv feature map activated, /softmax a vector's softmax and /dead-relu the training
// run stepped below. Every number drawn comes from those answers; this file only draws.

import { latest, postJSON } from '../api.js';
import { Stepper } from '../stepper.js';
import { copyText } from '../clipboard.js';
import { encode, fromAddress } from '../typed-url.js';
import { encode as convURL } from '../urlstate.js';
import { addMap, drawGrid } from '../pool/draw.js';
import { fmt } from '../format.js';
import { $, bindControls, showControls } from './controls.js';
import { narrow, onRoomChange, roomBelow } from '../room.js';
import { fillTabs, markTab } from '../kit/tabs.js';
import { curveFigure, draw, fitFigure, gradsFigure, historyFigure, rangesFigure, softmaxFigure } from './charts.js';
import { startPage } from '../kit/start.js';

const DATA = JSON.parse($('page-data').textContent);
const D = DATA.defaults;
const DEFAULTS = {
  ...D.curve,
  at: 1,
  ...D.map,
  ...D.softmax,
  seed: D.dead.seed,
  neurons: D.dead.neurons,
  lr: D.dead.lr,
  steps: D.dead.steps,
  bias_shift: D.dead.bias_shift,
  dead_slope: D.dead.negative_slope,
  step: 0,
};
const CURVE_KEYS = Object.keys(D.curve);
const state = fromAddress(DEFAULTS);
const views = {};
let curve = null; // the latest curve answer
let dead = null; // the latest dead-ReLU answer
let softmax = null; // the latest softmax answer
let playAfterRun = false; // the Run button plays the new run from its first step

const pick = (keys) => Object.fromEntries(keys.map((k) => [k, state[k]]));
const curveBody = () => pick(CURVE_KEYS);
const params = () => {
  const { x_min, x_max, points, ...rest } = curveBody();
  return rest;
};
const deadBody = () => ({
  ...pick(['seed', 'neurons', 'lr', 'steps', 'bias_shift']),
  negative_slope: state.dead_slope,
});

// ---- errors ----------------------------------------------------------------------------------

const errors = {};
function showError(part) {
  return (err) => {
    errors[part] = err.message || String(err);
    $('status').textContent = Object.values(errors).join(' · ');
  };
}
function clearError(part) {
  delete errors[part];
  $('status').textContent = Object.values(errors).join(' · ');
}

// ---- requests ----------------------------------------------------------------------------------

let point = null; // the x marked on the plot: the kept one, or the hovered one
const runCurve = latest(
  (body) => postJSON('/api/activations/curve', body),
  (res) => {
    clearError('curve');
    curve = res;
    $('formula-f').innerHTML = res.formulas.f;
    $('formula-grad').innerHTML = res.formulas.grad;
    $('torch-line').textContent = res.torch;
    const share = Math.round(100 * res.saturated_fraction);
    $('curve-summary').textContent = res.intervals.length
      ? `Shaded: ${res.intervals.map(([a, b]) => `x from ${fmt(a, 2)} to ${fmt(b, 2)}`).join(' and ')} (${share}% of the plotted range), where |f′| < ${fmt(res.params.threshold)}.`
      : `Nowhere in this range is |f′| below ${fmt(res.params.threshold)}: the gradient always passes.`;
    drawCurve();
  },
  showError('curve'),
);

const runPoint = latest(
  ({ body }) => postJSON('/api/activations/point', body),
  (res, { kept }) => {
    clearError('point');
    point = res;
    for (const key of ['f', 'grad', 'verdict']) $(`point-${key}`).innerHTML = res.formulas[key];
    if (kept) $('at-x').value = String(res.x);
    drawCurve();
  },
  showError('point'),
);

const runMap = latest(
  (body) => postJSON('/api/activations/map', body),
  (res) => {
    clearError('map');
    drawGrid(views.conv, res.conv, 'conv map x');
    drawGrid(views.activated, res.output, 'f(x)');
    drawGrid(views.grad, res.grad, 'f′(x): where gradients flow');
    const pct = (v) => `${Math.round(100 * v)}%`;
    $('map-summary').textContent =
      `f′ is exactly 0 at ${pct(res.zero_fraction)} of the cells and below ` +
      `${fmt(state.threshold)} at ${pct(res.saturated_fraction)}: there the loss's gradient does not reach the conv weights.`;
    $('map-text').textContent = res.torch;
    $('conv-link').href = `/conv${convURL(res.conv_state)}`;
  },
  showError('map'),
);

const runSoftmax = latest(
  (body) => postJSON('/api/activations/softmax', body),
  (res) => {
    clearError('softmax');
    softmax = res;
    drawSoftmax();
    for (const key of ['scaled', 'sum', 'check']) $(`softmax-${key}`).innerHTML = res.text[key];
    $('softmax-entries').innerHTML = res.text.entries.map((m) => `<p class="formula">${m}</p>`).join('');
    $('torch-line').textContent = res.text.torch;
    const labels = res.z.map((_, i) => `${i + 1}`);
    drawGrid(views.jacobian, res.jacobian, '∂yᵢ/∂sⱼ (row i, column j)', { rowLabels: labels, colLabels: labels });
  },
  showError('softmax'),
);

const runDead = latest(
  (body) => postJSON('/api/activations/dead-relu', body),
  (res) => {
    clearError('dead');
    dead = res;
    stepper.setTotal(res.num_steps, playAfterRun ? 0 : state.step);
    if (playAfterRun) stepper.play();
    playAfterRun = false;
  },
  showError('dead'),
);

function drawCurve() {
  if (curve) draw('curve-plot', curveFigure(curve, point, sizes.curve));
}

function drawSoftmax() {
  if (softmax) draw('softmax-plot', softmaxFigure(softmax, sizes.softmax));
}

// The plot of the shown tab as wide as its column and as tall as the first screen allows.
const sizes = { curve: undefined, softmax: undefined };
function plotRoom(id, least, ratio) {
  const el = $(id);
  const width = Math.floor(el.clientWidth);
  const room = narrow() ? Number.POSITIVE_INFINITY : roomBelow(el, 8);
  return { width, height: Math.floor(Math.max(least, Math.min(room, ratio * width))) };
}
function relayout() {
  if (!$('curve-section').hidden) {
    sizes.curve = plotRoom('curve-plot', 260, 0.9);
    drawCurve();
  } else {
    sizes.softmax = plotRoom('softmax-plot', 220, 0.6);
    drawSoftmax();
  }
}

function requestPoint(x, kept) {
  runPoint({ body: { ...params(), x }, kept });
}

function changed(part, lists = false) {
  writeURL();
  if (lists) showControls(state, changed, true);
  if (part === 'curve' && state.kind !== 'softmax') {
    runCurve(curveBody());
    runMap({ ...params(), ...pick(['image', 'size', 'kernel', 'gain']) });
  }
  if ((part === 'curve' || part === 'point') && state.kind !== 'softmax') requestPoint(state.at, true);
  if (part === 'softmax') runSoftmax(pick(['z', 'temperature']));
  if (part === 'dead') {
    state.step = 0;
    runDead(deadBody());
  }
}

let urlTimer = null;
function writeURL() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => window.history.replaceState(null, '', encode(state, DEFAULTS)), 150);
}

// ---- the dead-ReLU run -----------------------------------------------------------------------

function showStep(i) {
  state.step = i;
  if (!stepper.playing) writeURL();
  if (!dead) return;
  draw('dead-ranges', rangesFigure(dead, i));
  draw('dead-grads', gradsFigure(dead, i));
  draw('dead-history', historyFigure(dead, i));
  draw('dead-fit', fitFigure(dead, i));
  const count = dead.steps.dead[i].reduce((a, b) => a + b, 0);
  const n = dead.params.neurons;
  $('step-label').textContent = `step ${i} of ${dead.num_steps - 1}: loss ${fmt(dead.steps.loss[i])}`;
  $('dead-summary').textContent =
    `${count} of ${n} units dead at step ${i} (z ≤ 0 on every input: ` +
    `output 0, gradient exactly 0); ${dead.steps.dead[dead.num_steps - 1].reduce((a, b) => a + b, 0)} at the end.`;
}

const stepper = new Stepper($('stepper'), { onStep: showStep });

// ---- the page ----------------------------------------------------------------------------------

function selectKind(kind) {
  state.kind = kind;
  const vector = kind === 'softmax';
  $('softmax-section').hidden = !vector;
  $('curve-section').hidden = vector;
  $('map-section').hidden = vector;
  markTab($('kind-tabs'), 'kind', kind);
  showControls(state, changed, true);
  relayout();
  changed(vector ? 'softmax' : 'curve');
}

function bindPage() {
  fillTabs($('kind-tabs'), DATA.kinds, 'kind', selectKind);
  bindControls(state, DATA, changed);
  const plot = $('curve-plot');
  plot.addEventListener('mouseleave', () => requestPoint(state.at, true));
  window.Plotly.newPlot(plot, [], {}, { displayModeBar: false }).then(() => {
    plot.on('plotly_hover', (e) => requestPoint(e.points[0].x, false));
    plot.on('plotly_click', (e) => {
      state.at = e.points[0].x;
      writeURL();
      requestPoint(state.at, true);
    });
  });
  $('dead-run').addEventListener('click', () => {
    stepper.pause();
    playAfterRun = true;
    runDead(deadBody());
  });
  for (const b of document.querySelectorAll('[data-dead-preset]')) {
    b.addEventListener('click', () => {
      [state.lr, state.dead_slope] = b.dataset.deadPreset.split(',').map(Number);
      showControls(state, changed, false);
      changed('dead');
    });
  }
  $('copy-torch').addEventListener('click', () =>
    copyText($('torch-line').textContent, $('copied'), 'PyTorch line copied.'),
  );
  $('copy-link').addEventListener('click', () => {
    window.history.replaceState(null, '', encode(state, DEFAULTS));
    copyText(window.location.href, $('copied'), 'Link copied: it reopens this exact view.');
  });
}

function start() {
  onRoomChange(document.querySelector('.activations-page > .stage'), relayout);
  views.conv = addMap($('map-views'), 'act-conv', { target: 260 });
  views.activated = addMap($('map-views'), 'act-activated', { target: 260 });
  views.grad = addMap($('map-views'), 'act-grad', { target: 260 });
  views.jacobian = addMap($('jacobian-view'), 'act-jacobian', { target: 240, numbers: true });
  bindPage();
  selectKind(DATA.kinds.some((k) => k.id === state.kind) ? state.kind : DEFAULTS.kind);
  runDead(deadBody());
}

// the first picture is a Plotly chart: start once Plotly.js is there too (kit/start.js)
startPage(start, { plotly: true });
