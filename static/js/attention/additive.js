// The additive (Bahdanau) tab: one decoder state s over the encoder states hⱼ, every stage a map,
// and one step per encoder state writing out its score (the equations arrive as MathML).

import { MapView } from '../mapview.js';
import { fmt } from '../format.js';
import { draw } from './views.js';

const $ = (id) => document.getElementById(id);
const views = {};
const OPTS = { target: 200, maxCell: 36, numbers: true };

function add(parent, id, opts = {}) {
  const box = document.createElement('div');
  $(parent).append(box);
  views[id] = new MapView(box, { id, ...OPTS, ...opts });
}

// onDecoderClick(c): a click on a cell of the decoder state.
export function initAdditive(onDecoderClick) {
  add('add-row-inputs', 'add-h');
  add('add-row-inputs', 'add-s', {
    onCell: (_r, c, kind) => {
      if (kind === 'click') onDecoderClick(c);
    },
  });
  add('add-row-inputs', 'add-w1', { target: 160, numbers: 'auto' });
  add('add-row-inputs', 'add-w2', { target: 160, numbers: 'auto' });
  add('add-row-inputs', 'add-v', { target: 160, numbers: 'auto' });
  for (const id of ['add-w1s', 'add-w2h', 'add-tanh', 'add-scores', 'add-weights']) add('add-row-stages', id);
  add('add-row-context', 'add-weighted');
  add('add-row-context', 'add-context');
}

export function drawAdditive(res) {
  const toks = res.tokens;
  const feats = res.features;
  const dims = res.weights.v.map((_, a) => `${a}`);
  const st = res.stages;
  const s = res.params.decoder === null ? 's (edited)' : `s = h(${toks[res.params.decoder]})`;
  draw(views['add-h'], res.encoder_states, 'Encoder states hⱼ', toks, feats);
  draw(views['add-s'], [res.decoder_state], `Decoder state ${s}`, ['s'], feats);
  draw(views['add-w1'], res.weights.W1, 'W₁', dims, feats);
  draw(views['add-w2'], res.weights.W2, 'W₂', dims, feats);
  draw(
    views['add-v'],
    res.weights.v.map((x) => [x]),
    'v',
    dims,
    ['v'],
  );
  draw(views['add-w1s'], [st.projected_state], 'W₁s', ['s'], dims);
  draw(views['add-w2h'], st.projected_keys, 'W₂hⱼ', toks, dims);
  draw(views['add-tanh'], st.tanh, 'tanh(W₁s + W₂hⱼ)', toks, dims);
  draw(
    views['add-scores'],
    st.scores.map((x) => [x]),
    'scores eⱼ',
    toks,
    ['e'],
  );
  draw(
    views['add-weights'],
    st.weights.map((x) => [x]),
    'softmax aⱼ',
    toks,
    ['a'],
  );
  draw(views['add-weighted'], res.steps.weighted, 'aⱼ·hⱼ', toks, feats);
  draw(views['add-context'], [res.context], 'context c = Σⱼ aⱼhⱼ', ['c'], feats);
  $('add-formula').innerHTML = res.formula;
  $('add-softmax').innerHTML = res.softmax;
  $('add-torch').textContent = res.torch;
}

export function writeAdditiveStep(res, j) {
  const toks = res.tokens;
  const dims = res.weights.v.length;
  const feats = res.features.length;
  const all = (n) => Array.from({ length: n }, (_, i) => i);
  for (const id of ['add-h', 'add-w2h', 'add-tanh', 'add-weighted']) {
    views[id].setHighlights([
      { rows: [j], cols: all(id === 'add-w2h' || id === 'add-tanh' ? dims : feats), fill: null },
    ]);
  }
  for (const id of ['add-scores', 'add-weights']) views[id].setHighlights([{ rows: [j], cols: [0], fill: null }]);
  $('add-step-label').textContent = `encoder state ${j + 1} of ${res.num_steps}: “${toks[j]}”`;
  $('add-equation').innerHTML = res.equations[j];
  $('add-score').textContent = fmt(res.stages.scores[j]);
  $('add-weight').textContent = fmt(res.stages.weights[j]);
  let sum = 0;
  for (let i = 0; i <= j; i++) sum += res.stages.weights[i];
  $('add-running').textContent = `Σ aᵢ for i ≤ ${j}: ${fmt(sum)}; the context adds aⱼ·hⱼ row by row (the last map).`;
}
