// The page's whole state lives in the URL, so a copied link reopens the same view.
// Kernels travel as JSON; everything else as short plain fields.

import { keepClassroomKeys } from './classroom/url-keys.js';

const pair = (s, fallback) => {
  const v = (s || '').split(',').map(Number);
  return v.length === 2 && v.every(Number.isFinite) ? v : fallback;
};

// The classroom keys of the current address travel too (only `present` when another page
// builds a link to /conv).
export function encode(state) {
  const q = new URLSearchParams();
  q.set('image', state.image);
  q.set('size', state.size);
  q.set('color', state.color);
  q.set('w', JSON.stringify(state.weight));
  q.set('b', state.bias.join(','));
  q.set('stride', state.stride.join(','));
  q.set('pad', typeof state.padding === 'string' ? state.padding : state.padding.join(','));
  q.set('mode', state.padding_mode);
  q.set('dil', state.dilation.join(','));
  q.set('relu', state.relu ? '1' : '0');
  q.set('f', state.filter);
  q.set('step', state.step);
  keepClassroomKeys(q, /\/conv\/?$/.test(window.location.pathname));
  return `?${q.toString()}`;
}

// Missing or broken fields fall back to `defaults`; the server validates the rest.
export function decode(search, defaults) {
  const q = new URLSearchParams(search);
  if (!q.has('w')) return { ...defaults };
  let weight = defaults.weight;
  try {
    weight = JSON.parse(q.get('w'));
  } catch {
    /* keep defaults */
  }
  const pad = q.get('pad');
  const bias = (q.get('b') || '')
    .split(',')
    .filter((s) => s !== '')
    .map(Number);
  return {
    image: q.get('image') || defaults.image,
    size: Number(q.get('size')) || defaults.size,
    color: q.get('color') === 'rgb' ? 'rgb' : 'gray',
    weight,
    bias: bias.length === weight.length ? bias : weight.map(() => 0),
    stride: pair(q.get('stride'), defaults.stride),
    padding: pad === 'same' || pad === 'valid' ? pad : pair(pad, defaults.padding),
    padding_mode: q.get('mode') || defaults.padding_mode,
    dilation: pair(q.get('dil'), defaults.dilation),
    relu: q.get('relu') === '1',
    filter: Math.min(Number(q.get('f')) || 0, weight.length - 1),
    step: Number(q.get('step')) || 0,
  };
}
