// The small-CNN page: an input (a drawing, a generated digit or a picture) -> /api/network/forward ->
// every layer's maps and the class probabilities; the backward tab draws /api/network/backward's
// gradients; the circle tab runs seed 000's detector. The drawing is sent as a 56x56 ink raster and
// fitted to 28x28 by the server. Every number drawn comes from the engine through these answers.

import { latest } from '../api.js';
import { postJSON, upload } from '../uploads.js';
import { encode, fromAddress } from '../typed-url.js';
import { MapView } from '../mapview.js';
import { PRESENTER_EVENT, presenter } from '../classroom/mode.js';
import { DrawingPad } from './canvas.js';
import { LayerRow, clearBars, drawBars, drawMatrix } from './maps.js';
import { setupCircle } from './circle.js';
import { showLinks } from './links.js';
import { startPage } from '../kit/start.js';

const $ = (id) => document.getElementById(id);
const DATA = JSON.parse($('page-data').textContent);
const { matrix: _drawing, ...URL_DEFAULTS } = DATA.defaults; // a drawing is too big for the URL
const state = fromAddress(URL_DEFAULTS);
const uploads = new Map(); // upload id -> file name

// ---- errors and the URL ------------------------------------------------------------------------

function showError(err) {
  $('status').textContent = err.message || String(err);
  $('status').hidden = false;
}
function clearError() {
  $('status').hidden = true;
  $('status').textContent = '';
}
let urlTimer = null;
function writeURL() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => window.history.replaceState(null, '', encode(state, URL_DEFAULTS)), 150);
}

// ---- the request body --------------------------------------------------------------------------

const pad = new DrawingPad($('draw-canvas'), (final) => {
  if (state.source !== 'matrix') setSource('matrix', false);
  forward(final);
});

function inputBody() {
  const body = { source: state.source, digit: state.digit, seed: state.seed, image: state.image, invert: state.invert };
  if (state.source === 'matrix') body.matrix = pad.raster();
  return body;
}

// ---- forward -------------------------------------------------------------------------------------

let lastBody = null;
// the input map is smaller in presenter view (whose cells are bigger), the more so under the drawing pad
const inputTarget = () => (!presenter() ? 196 : state.source === 'matrix' ? 100 : 150);
const inputView = new MapView($('input-view'), { id: 'net-input', target: inputTarget(), signed: false });
document.addEventListener(PRESENTER_EVENT, () => {
  if (lastForward) drawForward(lastForward); // the chart's size changes with the view
});
const rows = {};
function forwardRows() {
  if (rows.conv1) return rows;
  const parent = $('forward-rows');
  const click = (layer, c) => showLinks(lastBody, layer, c, showError);
  rows.conv1 = new LayerRow(parent, 'fwd', 'conv1', { cell: 4, onClick: (_, c) => click(reluName(1), c) });
  rows.pool1 = new LayerRow(parent, 'fwd', 'pool1', { cell: 6, onClick: click });
  rows.conv2 = new LayerRow(parent, 'fwd', 'conv2', { cell: 7, onClick: (_, c) => click(reluName(2), c) });
  rows.pool2 = new LayerRow(parent, 'fwd', 'pool2', { cell: 12, onClick: click });
  rows.flatten = new LayerRow(parent, 'fwd', 'flatten', { cell: 8 });
  rows.logits = numberRow(parent, 'fwd-logits');
  return rows;
}
// A vector of 10 with its numbers written in (a MapView, one Plotly frame), under a heading.
function numberRow(parent, id) {
  const el = document.createElement('div');
  el.className = 'net-row';
  const title = document.createElement('h3');
  const box = document.createElement('div');
  el.append(title, box);
  parent.append(el);
  const view = new MapView(box, { id, target: 360, maxCell: 36, numbers: true });
  return {
    draw(values, label) {
      title.textContent = label;
      drawMatrix(view, [values], '', true);
    },
  };
}
const reluName = (k) => ($('before-relu').checked ? `conv${k}` : `relu${k}`);

function shapeText(shape) {
  return `(${shape.join(', ')})`;
}

const ASK_DRAWING = 'Draw a digit in the square: the network predicts once there is ink.';
const ASK_INK = 'This picture has no ink: draw a digit or pick a sample to see a prediction.';

let lastForward = null;
function drawForward(res) {
  lastForward = res;
  const r = forwardRows();
  inputView.opts.target = inputTarget();
  drawMatrix(inputView, res.input, 'input', false);
  $('input-note').textContent =
    `From ${res.source}${res.blank ? ': no ink yet, so every map is the biases alone' : ''}.`;
  // no ink, nothing to predict: the page asks for a drawing instead of naming a class
  $('prediction').classList.toggle('asking', res.blank);
  if (res.blank) {
    $('prediction').textContent = state.source === 'matrix' ? ASK_DRAWING : ASK_INK;
    clearBars($('probs-chart'), 'no prediction without ink');
  } else {
    const best = res.predicted;
    $('prediction').textContent = `Prediction: ${best}, with probability ${(100 * res.probs[best]).toFixed(1)}%`;
    drawBars($('probs-chart'), res.probs, best, 'P(class)');
  }
  const s = res.shapes;
  const c1 = reluName(1),
    c2 = reluName(2);
  r.conv1.draw(res.maps[c1], `${c1 === 'conv1' ? 'conv1, before ReLU' : 'conv1 + ReLU'} ${shapeText(s[c1])}`);
  r.pool1.draw(res.maps.pool1, `pool1 ${shapeText(s.pool1)}`);
  r.conv2.draw(res.maps[c2], `${c2 === 'conv2' ? 'conv2, before ReLU' : 'conv2 + ReLU'} ${shapeText(s[c2])}`);
  r.pool2.draw(res.maps.pool2, `pool2 ${shapeText(s.pool2)}`);
  const flat = [];
  for (let c = 0; c < 16; c++) flat.push(res.flatten.slice(25 * c, 25 * c + 25));
  r.flatten.draw(
    [flat],
    `flatten ${shapeText(s.flatten)}: 400 numbers, drawn 25 to a row (row c is pool2's channel c)`,
  );
  r.logits.draw(res.logits, `logits ${shapeText(s.logits)}: one weighted sum of the 400 per class`);
}

// A coalescing sender for one endpoint whose answers are drawn only while they are the latest asked for.
function sender(url, draw) {
  let current = '';
  const run = latest(
    (body) => postJSON(url, body),
    (res, body) => {
      if (JSON.stringify(body) !== current) return; // overtaken: a fresher request follows
      clearError();
      draw(res);
    },
    showError,
  );
  return (body) => {
    current = JSON.stringify(body);
    run(body);
  };
}

const sendForward = sender('/api/network/forward', (res) => drawForward(res));

function forward(final = true) {
  writeURL();
  const body = inputBody();
  lastBody = body;
  sendForward(body);
  if (state.tab === 'backward' && final) backward();
}

// ---- backward ------------------------------------------------------------------------------------

const grads = {};
let identityViews = null;
function backwardRows() {
  if (grads.input) return grads;
  const parent = $('backward-rows');
  grads.input = new LayerRow(parent, 'grad', 'input', { cell: 5 });
  grads.conv1 = new LayerRow(parent, 'grad', 'conv1', { cell: 4 });
  grads.weight = new LayerRow(parent, 'grad', 'conv1_weight', { cell: 14 });
  grads.pool1 = new LayerRow(parent, 'grad', 'pool1', { cell: 6 });
  grads.conv2 = new LayerRow(parent, 'grad', 'conv2', { cell: 7 });
  grads.pool2 = new LayerRow(parent, 'grad', 'pool2', { cell: 12 });
  grads.logits = numberRow(parent, 'grad-logits');
  identityViews = new LayerRow($('identity-maps'), 'identity', 'pool1', { cell: 10 });
  return grads;
}

function drawBackward(res) {
  const g = backwardRows();
  const d = (name) => `∂L/∂${name}`;
  $('loss-text').textContent =
    `L = −log P(${res.target}) = ${res.loss.toFixed(4)}  (P(${res.target}) = ${res.probs[res.target].toFixed(4)})`;
  g.input.draw(res.grads.input, `${d('input')} (1, 1, 28, 28)`, { signed: true });
  g.conv1.draw(res.grads.conv1, `${d('conv1')}: zero where ReLU cut the map (1, 8, 26, 26)`, { signed: true });
  g.weight.draw(
    res.weight_grads['conv1.weight'],
    `${d('conv1.weight')} (8, 1, 3, 3): how each kernel weight would change L`,
    { signed: true },
  );
  g.pool1.draw(res.grads.pool1, `${d('pool1')} (1, 8, 13, 13)`, { signed: true });
  g.conv2.draw(res.grads.conv2, `${d('conv2')} (1, 16, 11, 11)`, { signed: true });
  g.pool2.draw(res.grads.pool2, `${d('pool2')} (1, 16, 5, 5)`, { signed: true });
  g.logits.draw(res.grad_logits, `${d('logits')} = P − onehot(${res.target}) (1, 10)`);
  const t = res.transposed;
  const c = t.cell.channel;
  identityViews.draw(
    [res.grads.pool1[c], t.grad_pool1[c]],
    `channel ${c} of ∂L/∂pool1: by backpropagation, and by conv_transpose2d(∂L/∂conv2, conv2.weight)`,
    { signed: true },
  );
  $('identity-formula').innerHTML = t.formula;
}

const sendBackward = sender('/api/network/backward', (res) => drawBackward(res));

function backward() {
  sendBackward({ ...inputBody(), target: state.target });
}

// ---- controls ------------------------------------------------------------------------------------

const openCircle = setupCircle({ shapes: DATA.circle_shapes, partNames: DATA.part_names, showError, clearError });

function setSource(source, send = true) {
  state.source = source;
  for (const r of document.querySelectorAll('input[name="source"]')) r.checked = r.value === source;
  for (const el of document.querySelectorAll('[data-source]')) el.hidden = el.dataset.source !== source;
  if (send) forward();
}

function setTab(tab) {
  state.tab = tab;
  for (const b of $('tabs').querySelectorAll('button')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
  for (const p of document.querySelectorAll('[data-panel]')) p.hidden = p.dataset.panel !== tab;
  writeURL();
  if (tab === 'backward' && lastBody) backward();
  if (tab === 'circle') openCircle();
}

function bind() {
  $('digit').append(...Array.from({ length: 10 }, (_, k) => new Option(String(k), String(k))));
  $('target').append(...Array.from({ length: 10 }, (_, k) => new Option(String(k), String(k))));
  $('digit').value = String(state.digit);
  $('seed').value = String(state.seed);
  $('target').value = String(state.target);
  $('invert').value = state.invert;
  if (state.image !== 'digit') $('image').append(new Option('uploaded picture', state.image));
  $('image').value = state.image;
  for (const r of document.querySelectorAll('input[name="source"]')) {
    r.addEventListener('change', () => {
      if (r.checked) setSource(r.value);
    });
  }
  $('digit').addEventListener('change', () => {
    state.digit = Number($('digit').value);
    setSource('sample');
  });
  $('seed').addEventListener('input', () => {
    const v = $('seed').valueAsNumber;
    $('seed').classList.toggle('invalid', !Number.isInteger(v));
    if (Number.isInteger(v)) {
      state.seed = v;
      setSource('sample');
    }
  });
  $('another').addEventListener('click', () => {
    state.seed += 1;
    $('seed').value = String(state.seed);
    setSource('sample');
  });
  $('clear').addEventListener('click', () => {
    pad.clear();
    if (state.source === 'matrix') forward();
  });
  $('image').addEventListener('change', () => {
    state.image = $('image').value;
    setSource('image');
  });
  $('invert').addEventListener('change', () => {
    state.invert = $('invert').value;
    forward();
  });
  $('upload').addEventListener('change', async () => {
    const file = $('upload').files[0];
    if (!file) return;
    try {
      const res = await upload('/api/images', file);
      uploads.set(res.id, res.name);
      $('image').append(new Option(`upload: ${res.name}`, res.id));
      $('image').value = res.id;
      state.image = res.id;
      setSource('image');
    } catch (err) {
      showError(err);
    }
  });
  $('target').addEventListener('change', () => {
    state.target = Number($('target').value);
    writeURL();
    backward();
  });
  $('before-relu').addEventListener('change', () => {
    if (lastForward) drawForward(lastForward);
  });
  for (const b of $('tabs').querySelectorAll('button')) b.addEventListener('click', () => setTab(b.dataset.tab));
}

// maps paint from the engine's numbers without waiting for Plotly.js (kit/start.js)
startPage(() => {
  bind();
  setSource(state.source, false);
  setTab(state.tab);
  forward();
});
