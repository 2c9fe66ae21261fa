// How the calculator writes shapes, counts and receptive fields, and reads argument inputs.
// Display only: every number comes from the engine.

import { fmt } from '../format.js';

// 18496 -> "18,496"; fractions (after a strided ConvTranspose2d) to 3 decimals.
export function grouped(v) {
  return Number.isInteger(v) ? v.toLocaleString('en-US') : fmt(v);
}

// Channels last, the way a Keras summary writes it: (32, 26, 26) -> "26×26×32".
export function shapeHWC(shape) {
  return shape.length === 1 ? grouped(shape[0]) : [...shape.slice(1), shape[0]].map(grouped).join('×');
}

// Channels first, torch's order: "(32, 26, 26)", "(10,)".
export function shapeCHW(shape) {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

const pair = (p) => (p[0] === p[1] ? fmt(p[0]) : `${fmt(p[0])}×${fmt(p[1])}`);

// {size, more} of a layer's receptive field; a (C, L) stack has no height to show.
export function fieldText(layer, oneD) {
  if (!layer.receptive_field) return { size: 'whole input', more: 'mixes every position' };
  const [r, j, s] = [layer.receptive_field, layer.jump, layer.start];
  if (oneD) return { size: fmt(r[1]), more: `jump ${fmt(j[1])} · start ${fmt(s[1])}` };
  return { size: `${fmt(r[0])}×${fmt(r[1])}`, more: `jump ${pair(j)} · start ${pair(s)}` };
}

// An argument as its input shows it: 3, "3,5", "same"; null (a pool's stride) as empty.
export function argText(value) {
  if (value === null || value === undefined) return '';
  return Array.isArray(value) ? value.join(',') : String(value);
}

const SIZE = /^\s*(\d+)\s*(?:[,x×]\s*(\d+))?\s*$/;

// The value an input holds, or undefined when it cannot be read. Empty means "the default".
export function parseArg(widget, input) {
  if (widget === 'flag') return input.checked;
  const text = input.value.trim();
  if (text === '') return null;
  if (widget === 'int' || widget === 'prob') {
    const v = Number(text);
    return Number.isFinite(v) && (widget === 'prob' || Number.isInteger(v)) ? v : undefined;
  }
  if (widget === 'pad' && (text === 'same' || text === 'valid')) return text;
  const m = SIZE.exec(text);
  if (!m) return undefined;
  return m[2] === undefined ? Number(m[1]) : [Number(m[1]), Number(m[2])];
}

// "1, 28, 28" -> [1, 28, 28]; undefined unless 1 to 3 whole numbers.
export function parseShape(text) {
  const parts = text.split(/[\s,×x()]+/).filter((s) => s !== '');
  const v = parts.map(Number);
  return v.length >= 1 && v.length <= 3 && v.every(Number.isInteger) ? v : undefined;
}

export const sameValue = (a, b) => JSON.stringify(a) === JSON.stringify(b);
