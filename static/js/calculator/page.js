// The layer calculator: the stack (a table) -> /api/calculator/analyse -> numbers, the
// selected layer's formulas and its receptive field. Every edit recomputes at once; edits
// made while a request is out collapse into one request with the latest stack.

import { ApiError, latest, postJSON } from '../api.js';
import { FieldView } from './fieldview.js';
import { decode, encode } from './stack-url.js';
import { StackTable } from './table.js';
import { fieldText, grouped, parseShape, shapeCHW, shapeHWC } from './text.js';
import { PRESENTER_EVENT } from '../classroom/mode.js';
import { startPage } from '../kit/start.js';

const DATA = JSON.parse(document.getElementById('page-data').textContent);
const $ = (id) => document.getElementById(id);
const PRESETS = Object.fromEntries(DATA.presets.map((p) => [p.name, p]));
const KINDS = Object.fromEntries(DATA.kinds.map((k) => [k.kind, k.args])); // in the server's order

function fromPreset(name) {
  const p = PRESETS[name];
  return { input: [...p.input_shape], layers: structuredClone(p.layers), sel: 0, pos: null, preset: name };
}

let state = decode(window.location.search, fromPreset('seed002_mnist'));

// ---- requests -----------------------------------------------------------------------------------

const analyse = (body) => postJSON('/api/calculator/analyse', body);

function requestBody() {
  const selected = state.sel < state.layers.length ? state.sel : null;
  return { input_shape: state.input, layers: state.layers, selected, position: selected === null ? null : state.pos };
}

// A 422 names what failed: "layers[3]..." a layer, "input_shape..." the input (index -1).
function failure(err) {
  if (!(err instanceof ApiError) || err.status !== 422 || !err.body) return null;
  const m = /^layers\[(\d+)\]/.exec(err.body.message);
  if (m) return { index: Number(m[1]), message: err.body.message.replace(/^[^:]*: /, '') };
  if (err.body.message.startsWith('input_shape')) return { index: -1, message: err.body.message };
  return null;
}

// For a failing layer, the layers before it are analysed alone so their rows keep their numbers.
async function task(body) {
  try {
    return { report: await analyse(body), failed: null };
  } catch (err) {
    const failed = failure(err);
    if (!failed) throw err;
    let report = null;
    if (failed.index > 0) {
      const layers = body.layers.slice(0, failed.index);
      const selected = body.selected !== null && body.selected < failed.index ? body.selected : null;
      try {
        report = await analyse({ ...body, layers, selected, position: selected === null ? null : body.position });
      } catch {
        /* the message above says enough */
      }
    }
    return { report, failed };
  }
}

let currentKey = '';
const run = latest(
  (req) => task(req.body),
  (res, req) => {
    if (req.key === currentKey) show(res);
  },
  (err, req) => {
    if (req.key === currentKey) setStatus(err.message || String(err));
  },
);

// edited: the stack changed, so it is no longer a preset and a clicked position may be gone.
function changed({ structure = false, edited = true } = {}) {
  if (edited) {
    state.preset = null;
    state.pos = null;
  }
  if (structure) table.render(state.layers);
  table.select(state.sel);
  showControls();
  writeURL();
  const body = structuredClone(requestBody()); // later edits must not reach a request in flight
  currentKey = JSON.stringify(body);
  run({ key: currentKey, body });
}

// ---- drawing ------------------------------------------------------------------------------------

function setStatus(text) {
  $('status').textContent = text;
}

function show({ report, failed }) {
  const oneD = state.input.length === 2;
  table.fill(report, failed, oneD);
  $('input-shape').classList.toggle('invalid', failed?.index === -1);
  const named = !failed || failed.index < 0 || failed.message.startsWith('layer ');
  setStatus(failed ? `${named ? '' : `Layer ${failed.index}: `}${failed.message}` : '');
  const whole = failed ? null : report;
  $('total-params').textContent = whole ? grouped(whole.total_parameters) : '·';
  $('total-macs').textContent = whole ? grouped(whole.total_macs) : '·';
  $('total-out').textContent = whole ? `${shapeHWC(whole.output_shape)} ${shapeCHW(whole.output_shape)}` : '·';
  showSelected(report);
}

function showSelected(report) {
  const layer = report?.layers[state.sel];
  $('selected-title').textContent = layer ? `Selected: layer ${layer.index}, ${layer.torch}` : '';
  $('selected-summary').textContent = layer ? summary(layer, state.input.length === 2) : '';
  const formulas = report?.selected?.index === state.sel ? report.selected.formulas : [];
  $('selected-formulas').innerHTML = formulas
    .map((f) => `<p class="formula" data-name="${f.name}">${f.mathml}</p>`)
    .join('');
  $('selected-none').hidden = formulas.length > 0 || !layer;
  const box = layer?.box;
  $('rf-maps').hidden = !box;
  if (box) {
    field.fit(...fieldSpace());
    $('rf-caption').textContent = field.show(layer, state.input);
  } else if (!layer) {
    $('rf-caption').textContent = state.layers.length
      ? 'The selected layer has no numbers: see the error above.'
      : 'Add a layer to see what it sees.';
  } else {
    $('rf-caption').textContent =
      state.input.length === 1
        ? 'The input is a flat vector: it has no grid to draw.'
        : `Layer ${layer.index} (${layer.kind}) has mixed every position: each of its outputs sees the whole input.`;
  }
}

// The selected layer's numbers in one line, as its table row writes them.
function summary(layer, oneD) {
  const f = fieldText(layer, oneD);
  return [
    `output ${shapeHWC(layer.output_shape)} ${shapeCHW(layer.output_shape)}`,
    `${grouped(layer.parameters)} parameters`,
    `${grouped(layer.macs)} MACs`,
    `receptive field ${f.size}${layer.receptive_field ? `, ${f.more}` : ''}`,
  ].join(' · ');
}

// The room the two field maps have: the panel's width, and the screen's height below the panel's
// top (the page opens at its top) less the caption's.
function fieldSpace() {
  const panel = $('rf-maps').getBoundingClientRect();
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
  const below = window.innerHeight - (panel.top + window.scrollY) - 3.5 * rem; // the caption's two lines
  return [panel.width, below];
}

function showControls() {
  const input = $('input-shape');
  if (document.activeElement !== input) input.value = state.input.join(', ');
  $('input-out').textContent = `${shapeHWC(state.input)} ${shapeCHW(state.input)}`;
  $('add-layer').disabled = state.layers.length >= DATA.limits.max_layers;
  const note = state.preset ? PRESETS[state.preset] : null;
  $('preset-note').textContent = note ? `${note.label}: ${note.note}` : '';
  for (const b of $('presets').querySelectorAll('button')) {
    b.setAttribute('aria-pressed', String(b.dataset.preset === state.preset));
  }
}

// ---- URL ----------------------------------------------------------------------------------------

let urlTimer = null;
function writeURL() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => window.history.replaceState(null, '', encode(state)), 150);
}

// ---- editing ------------------------------------------------------------------------------------

// A new layer of `kind`: its required arguments, plus those it shares with `from` (a kind change).
function newLayer(kind, from = {}) {
  const args = {};
  for (const spec of KINDS[kind]) {
    if (spec.name in from) args[spec.name] = from[spec.name];
    else if (spec.required) args[spec.name] = spec.default;
  }
  return { kind, args };
}

const table = new StackTable($('layers-body'), KINDS, {
  edit(i, name, value) {
    if (value === undefined) delete state.layers[i].args[name];
    else state.layers[i].args[name] = value;
    changed();
  },
  kind(i, kind) {
    state.layers[i] = newLayer(kind, state.layers[i].args);
    changed({ structure: true });
  },
  move(i, delta) {
    const j = i + delta;
    [state.layers[i], state.layers[j]] = [state.layers[j], state.layers[i]];
    if (state.sel === i || state.sel === j) state.sel = state.sel === i ? j : i;
    changed({ structure: true });
  },
  remove(i) {
    state.layers.splice(i, 1);
    if (state.sel >= i && state.sel > 0) state.sel -= 1;
    changed({ structure: true });
  },
  select(i) {
    state.sel = i;
    state.pos = null;
    changed({ edited: false });
  },
});

const field = new FieldView($('rf-output'), $('rf-input'), (r, c) => {
  state.pos = [r, c];
  changed({ edited: false });
});

function bindControls() {
  $('presets').replaceChildren(
    ...DATA.presets.map((p) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = p.label;
      b.dataset.preset = p.name;
      b.addEventListener('click', () => {
        state = fromPreset(p.name);
        changed({ structure: true, edited: false });
      });
      return b;
    }),
  );
  const kinds = $('add-kind');
  kinds.append(...Object.keys(KINDS).map((k) => new Option(k, k)));
  $('add-layer').addEventListener('click', () => {
    state.layers.push(newLayer(kinds.value));
    state.sel = state.layers.length - 1;
    changed({ structure: true });
  });
  $('input-shape').addEventListener('input', () => {
    const shape = parseShape($('input-shape').value);
    $('input-shape').classList.toggle('invalid', !shape);
    if (!shape) return;
    state.input = shape;
    changed();
  });
  $('copy-link').addEventListener('click', async () => {
    window.history.replaceState(null, '', encode(state));
    try {
      await navigator.clipboard.writeText(window.location.href);
      $('copied').textContent = 'Link copied: it reopens this stack.';
    } catch {
      $('copied').textContent = window.location.href; // no clipboard access: copy it by hand
    }
  });
}

function start() {
  bindControls();
  changed({ structure: true, edited: false });
  const refit = () => {
    field.fit(...fieldSpace());
    field.redraw();
  };
  window.addEventListener('resize', refit);
  document.addEventListener(PRESENTER_EVENT, () => requestAnimationFrame(refit));
}

// maps paint from the engine's numbers without waiting for Plotly.js (kit/start.js)
startPage(start);
