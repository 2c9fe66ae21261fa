// The "Your model" page: open a model (a built-in, or an ONNX / safetensors / .npz file) ->
// /api/model/open or /api/model/builtin/{name} -> the layer column; an input (a digit, a picture, a
// drawing) -> /api/model/run -> every layer's maps and the class probabilities; a click on a map of a
// Conv, pooling or norm layer -> /api/model/link -> links to its own page. Drawing only: every number
// comes from the engine through these answers.

import * as api from '../api.js';
import { postJSON, upload, unknownUpload } from '../uploads.js';
import { encode, fromAddress } from '../typed-url.js';
import { MapView } from '../mapview.js';
import { DrawingPad } from '../network/canvas.js';
import { LayerRow, drawBars, drawMatrix } from '../network/maps.js';
import { linkAnchors } from '../network/links.js';
import { startPage } from '../kit/start.js';
import { say } from '../kit/notice.js';
import { fmt } from '../format.js';
import { probe } from '../probe.js';
import { asMaps, cellSide, fittingCell, layerItem, mapsLabel } from './layers.js';
import { PRESENTER_EVENT } from '../classroom/mode.js';

const $ = (id) => document.getElementById(id);
const DATA = JSON.parse($('page-data').textContent);
const DEFAULTS = { ...DATA.defaults, layer: '' };
const state = fromAddress(DEFAULTS);
const files = new Map(); // model id -> { file, layers, shape }: sent again when a worker does not have it

// ---- errors and the URL ------------------------------------------------------------------------------

const showError = (err) => say($('status'), err.message || String(err));
const clearError = () => say($('status'), '');
let urlTimer = null;
function writeURL() {
  clearTimeout(urlTimer);
  // an opened file's id cannot be opened from the address (the file stays in this tab): built-ins only
  const shown = state.model.startsWith('builtin:') ? state : { ...state, model: DEFAULTS.model };
  urlTimer = setTimeout(() => window.history.replaceState(null, '', encode(shown, DEFAULTS)), 150);
}

// ---- opening a model ---------------------------------------------------------------------------------

const unknownModel = (err) => err?.status === 404 && Boolean(err.body?.detail?.some((d) => d.type === 'unknown_model'));

async function postFile(kept) {
  const form = new FormData();
  form.append('file', kept.file);
  if (kept.layers) form.append('layers', kept.layers);
  if (kept.shape) form.append('input_shape', kept.shape);
  probe.busy += 1;
  try {
    const res = await fetch('/api/model/open', { method: 'POST', body: form });
    if (!res.ok) throw new api.ApiError(res.status, await res.json().catch(() => null));
    return await res.json();
  } finally {
    probe.busy -= 1;
  }
}

// A request naming the model, made to survive a worker that does not hold it: the file is sent again once.
async function withModel(url, body) {
  try {
    return await postJSON(url, body);
  } catch (err) {
    const kept = files.get(body.model);
    if (!unknownModel(err) || !kept) throw err;
    await postFile(kept);
    return postJSON(url, body);
  }
}

let opened = null; // the open answer: id, name, layers, input, explain
function showModel(res) {
  opened = res;
  state.model = res.id;
  if (!res.layers.some((l) => l.name === state.layer)) state.layer = firstMapLayer(res);
  $('model-name').textContent = `Open: ${res.name} (${res.kind === 'onnx' ? 'ONNX' : res.kind})`;
  $('total-params').textContent =
    `${res.layers.length} nodes, ${res.total_parameters.toLocaleString('en-US')} parameters`;
  $('input-shape-text').textContent = `(1, ${res.input.shape.join(', ')})`;
  const list = $('layer-list');
  list.replaceChildren(...res.layers.map((row) => layerItem(row, () => selectLayer(row.name))));
  const total = document.createElement('li');
  total.className = 'model-total';
  total.textContent = `total ${res.total_parameters.toLocaleString('en-US')} parameters`;
  list.append(total);
  fitColumn();
  // the server's paragraphs are HTML: the file's names escaped there, the formulas in MathML
  $('explain').innerHTML = res.explain.map((t) => `<p>${t}</p>`).join('');
  for (const b of document.querySelectorAll('[data-builtin]')) {
    b.setAttribute('aria-pressed', String(res.id === `builtin:${b.dataset.builtin}`));
  }
  markSelected();
}

const firstMapLayer = (res) => (res.layers.find((l) => l.output_shape.length === 4) || res.layers[0])?.name || '';

async function openBuiltin(name) {
  if (name === 'circle' && state.source === 'sample') {
    state.image = 'circle'; // at 5x5 the sample ring is seed 000's circle
    $('image').value = 'circle';
    setSource('image', false);
  }
  await opening(() => api.postJSON(`/api/model/builtin/${name}`, {}));
}

// Open a model (`request` answers its layer column), then run it on the input. The page is busy
// (not settled, for the tests' idle and the bench's first picture) until the run is sent.
async function opening(request) {
  probe.busy += 1;
  try {
    showModel(await request());
    clearError();
    run();
  } catch (err) {
    showError(err);
  } finally {
    probe.busy -= 1;
  }
}

async function openFile() {
  const file = $('model-file').files[0];
  if (!file) return;
  const kept = { file, layers: $('layers').value.trim(), shape: $('input-shape').value.trim() };
  await opening(async () => {
    const res = await postFile(kept);
    files.set(res.id, kept);
    return res;
  });
}

// ---- the input ---------------------------------------------------------------------------------------

const pad = new DrawingPad($('draw-canvas'), (final) => {
  if (final) {
    setSource('matrix', false);
    run();
  }
});

function inputBody() {
  const body = { model: state.model, source: state.source, image: state.image, digit: state.digit, seed: state.seed };
  if (state.source === 'matrix') body.matrix = pad.raster();
  return body;
}

function setSource(source, send = true) {
  state.source = source;
  for (const r of document.querySelectorAll('input[name="source"]')) r.checked = r.value === source;
  for (const el of document.querySelectorAll('[data-source]')) el.hidden = el.dataset.source !== source;
  if (send) run();
}

// ---- running -----------------------------------------------------------------------------------------

let lastRun = null;
let lastBody = null;
const inputView = new MapView($('input-view'), { id: 'model-input', target: 180, signed: false });

const sendRun = api.latest(
  (body) => withModel('/api/model/run', body),
  (res, body) => {
    if (body !== lastBody) return; // overtaken: a fresher request follows
    clearError();
    drawRun(res);
  },
  showError,
);

function run() {
  if (!opened) return;
  writeURL();
  lastBody = { ...inputBody(), layer: state.layer || null };
  sendRun(lastBody);
}

function drawRun(res) {
  lastRun = res;
  drawMatrix(inputView, res.input[0], `input, channel 0 of ${opened.input.shape[0]}`, false);
  drawStageInput(res.input);
  $('input-note').textContent = `From ${res.source}, fitted to ${opened.input.shape.slice(1).join('x')}.`;
  const classes = res.classes;
  $('probs-block').hidden = !classes;
  if (classes) {
    const best = classes.predicted;
    $('prediction').textContent =
      `Prediction: ${classes.labels[best]}, with probability ${(100 * classes.probs[best]).toFixed(1)}%`;
    $('probs-how').textContent = classes.how;
    drawBars($('probs-chart'), classes.probs, best, 'P(class)');
  } else {
    const last = res.layers.at(-1);
    const one = last.shape.every((n) => n === 1) && last.kind === 'maps' ? last.maps.flat(2)[0] : null;
    const value = one === null || one === undefined ? '' : ` = ${fmt(one)}`;
    $('prediction').textContent = `Output ${last.name}${value}, shape (${last.shape.join(', ')})`;
  }
  fitColumn(); // the prediction line above it may have changed its height
  drawSelected();
  drawAll();
}

// The input beside the prediction (shown in presenter view, where the settings are folded): each channel
// about 72 px on its longer side, with its colour bar.
let stageInput = null;
const inputCell = (map) => {
  const side = Math.max(map.length, map[0].length);
  return side > 72 ? 72 / side : cellSide(map, 72, 24); // a 224x224 picture drawn 72 px wide
};
function drawStageInput(input) {
  const side = `${input[0].length}x${input[0][0].length}`;
  if (stageInput?.side !== side) {
    $('stage-input').replaceChildren();
    stageInput = { side, row: new LayerRow($('stage-input'), 'in', 'input', { cell: inputCell(input[0]) }) };
  }
  stageInput.row.draw(input, 'input', { signed: false });
  const names = input.length === 3 ? ['R', 'G', 'B'] : input.map((_, c) => `channel ${c}`);
  stageInput.row.views.forEach((tile, c) => {
    tile.label.textContent = input.length === 1 ? 'input' : names[c];
  });
}

// ---- the layers --------------------------------------------------------------------------------------

function selectLayer(name) {
  state.layer = name;
  $('link-panel').hidden = true;
  markSelected();
  const layer = lastRun?.layers.find((l) => l.name === name);
  if (layer && layer.kind !== 'omitted' && !(layer.preview > 1)) drawSelected();
  else run(); // the last answer had its maps in blocks' means or not at all: ask for them whole
  writeURL();
}

function markSelected() {
  for (const li of $('layer-list').querySelectorAll('li[data-layer]')) {
    li.setAttribute('aria-current', String(li.dataset.layer === state.layer));
  }
}

let selectedRow = null;

function drawSelected() {
  const layer = lastRun?.layers.find((l) => l.name === state.layer);
  const row = opened?.layers.find((l) => l.name === state.layer);
  if (!layer || !row) return;
  $('selected-title').textContent = `${layer.name} (${layer.shape.join(', ')})`;
  $('selected-torch').firstElementChild.textContent = row.torch || layer.op;
  selectedRow?.el.remove();
  const box = $('selected-maps');
  box.replaceChildren();
  if (layer.kind === 'maps' || layer.kind === 'vector') {
    const maps = asMaps(layer);
    const clickable = row.link && layer.kind === 'maps';
    selectedRow = new LayerRow(box, 'sel', layer.name, {
      cell: selectedCell(box, maps),
      onClick: clickable ? (_, c) => showLinks(layer.name, c) : null,
    });
    selectedRow.draw(maps, mapsLabel(layer));
  } else {
    selectedRow = null;
    box.textContent = layer.kind === 'omitted' ? layer.why : `shape (${layer.shape.join(', ')})`;
  }
  $('click-note').hidden = !row.link;
}

// Side by side (wider than a phone) the prediction, the layer column and the selected layer's maps are one
// step on one screen: the maps as large as fit below their heading, the column's box ending above the
// window's bottom edge (a long model scrolls inside it). On a phone they stack: the maps at most 60% of the
// window's height, the column 40% (the page's CSS).
const SIDE_BY_SIDE = window.matchMedia('(min-width: 901px)');
const roomBelow = (el) => window.innerHeight - (el.getBoundingClientRect().top + window.scrollY) - 12;

function selectedCell(box, maps) {
  const room = SIDE_BY_SIDE.matches ? Math.max(160, roomBelow(box)) : Math.max(260, 0.6 * window.innerHeight);
  const most = Math.max(24, Math.floor(160 / Math.max(maps[0].length, maps[0][0].length))); // a 2x2 map 160 px
  return fittingCell(maps.length, maps[0].length, maps[0][0].length, box.clientWidth, room, most);
}

function fitColumn() {
  const list = $('layer-list');
  list.style.maxHeight = SIDE_BY_SIDE.matches ? `${Math.max(160, roomBelow(list))}px` : '';
}

// A layer whose maps the answer left out (over its budget) or that has none to draw: its name, and a button
// that selects it (then its maps come whole).
function untold(layer) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'model-untold';
  button.textContent = `${layer.name} · ${layer.op} (${layer.shape.join(', ')}): ${layer.why || 'nothing to draw'}`;
  button.addEventListener('click', () => selectLayer(layer.name));
  return button;
}

const allRows = new Map(); // layer name -> LayerRow
function drawAll() {
  const parent = $('all-rows');
  const names = new Set(lastRun.layers.map((l) => l.name));
  for (const [name, row] of allRows) {
    if (!names.has(name)) {
      row.el.remove();
      allRows.delete(name);
    }
  }
  parent.replaceChildren();
  for (const layer of lastRun.layers) {
    if (layer.kind !== 'maps' && layer.kind !== 'vector') {
      parent.append(untold(layer));
      continue;
    }
    const maps = asMaps(layer);
    const key = `${layer.name}|${maps[0].length}x${maps[0][0].length}`;
    let row = allRows.get(key);
    if (!row) {
      const link = opened.layers.find((l) => l.name === layer.name)?.link && layer.kind === 'maps';
      row = new LayerRow(parent, 'all', layer.name, {
        cell: layer.kind === 'vector' ? cellSide(maps[0], 240, 12) : cellSide(maps[0], 56, 28),
        onClick: (_, c) => {
          selectLayer(layer.name);
          if (link) showLinks(layer.name, c);
        },
      });
      allRows.set(key, row);
    } else parent.append(row.el);
    row.draw(maps, `${layer.name} · ${layer.op} (${layer.shape.join(', ')}): ${mapsLabel(layer)}`);
  }
}

// ---- links -------------------------------------------------------------------------------------------

async function showLinks(layer, channel) {
  try {
    const res = await withModel('/api/model/link', { ...inputBody(), layer, channel });
    $('link-title').textContent = `${res.layer} (${res.op}), channel ${channel}:`;
    $('link-list').replaceChildren(...linkAnchors(res.links));
    if (!res.links.length) $('link-list').textContent = 'no page can show it';
    $('link-notes').replaceChildren(
      ...res.notes.map((n) => {
        const li = document.createElement('li');
        li.textContent = n;
        return li;
      }),
    );
    $('link-panel').hidden = false;
  } catch (err) {
    showError(err);
  }
}

// ---- controls ----------------------------------------------------------------------------------------

function bind() {
  $('digit').append(...Array.from({ length: 10 }, (_, k) => new Option(String(k), String(k))));
  $('digit').value = String(state.digit);
  $('seed').value = String(state.seed);
  $('image').append(...DATA.samples.map((name) => new Option(`sample: ${name}`, name)));
  $('image').value = DATA.samples.includes(state.image) ? state.image : DATA.samples[0];
  state.image = $('image').value;
  for (const b of document.querySelectorAll('[data-builtin]')) {
    b.addEventListener('click', () => openBuiltin(b.dataset.builtin));
  }
  $('model-file').addEventListener('change', openFile);
  // a state_dict's layer list or input shape given after its file: open it again with them
  for (const id of ['layers', 'input-shape']) $(id).addEventListener('change', openFile);
  for (const r of document.querySelectorAll('input[name="source"]')) {
    r.addEventListener('change', () => {
      if (r.checked) setSource(r.value);
    });
  }
  $('digit').addEventListener('change', () => {
    state.digit = Number($('digit').value);
    setSource('sample');
  });
  $('seed').addEventListener('change', () => {
    const v = $('seed').valueAsNumber;
    if (Number.isInteger(v) && v >= 0) {
      state.seed = v;
      setSource('sample');
    }
  });
  $('image').addEventListener('change', () => {
    state.image = $('image').value;
    setSource('image');
  });
  $('clear').addEventListener('click', () => pad.clear());
  $('upload').addEventListener('change', async () => {
    const file = $('upload').files[0];
    if (!file) return;
    try {
      const res = await upload('/api/images', file);
      $('image').append(new Option(`upload: ${res.name}`, res.id));
      $('image').value = res.id;
      state.image = res.id;
      setSource('image');
    } catch (err) {
      showError(unknownUpload(err) ? new Error('the upload was lost: upload it again') : err);
    }
  });
}

function refit() {
  fitColumn();
  if (lastRun) drawSelected(); // the room for the maps changes with the view
}
document.addEventListener(PRESENTER_EVENT, refit);
SIDE_BY_SIDE.addEventListener('change', refit);

startPage(() => {
  bind();
  setSource(state.source, false);
  const builtin = state.model.startsWith('builtin:') ? state.model.slice(8) : 'small-cnn';
  openBuiltin(DATA.builtins.includes(builtin) ? builtin : DATA.builtins[0]);
});
