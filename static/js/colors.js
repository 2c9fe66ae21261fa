// Colour scales as 256-entry lookup tables (RGBA bytes), shared by every map.
// Signed values use a diverging blue-white-red scale centred on zero (ColorBrewer RdBu,
// colour-blind safe); unsigned values (images) use grey.

const RDBU = [
  '#053061',
  '#2166ac',
  '#4393c3',
  '#92c5de',
  '#d1e5f0',
  '#f7f7f7',
  '#fddbc7',
  '#f4a582',
  '#d6604d',
  '#b2182b',
  '#67001f',
];

function hex(c) {
  return [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
}

function table(stops) {
  const rgb = stops.map(hex);
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (rgb.length - 1);
    const k = Math.min(Math.floor(t), rgb.length - 2);
    const f = t - k;
    for (let ch = 0; ch < 3; ch++) lut[i * 4 + ch] = rgb[k][ch] * (1 - f) + rgb[k + 1][ch] * f;
    lut[i * 4 + 3] = 255;
  }
  return lut;
}

export const DIVERGING = table(RDBU);
export const GREY = table(['#000000', '#ffffff']);
export const EMPTY_RGBA = [235, 235, 240, 255]; // cells not computed yet

// The colour range for a map: symmetric about zero when signed.
export function range(lo, hi, signed) {
  if (signed) {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    return [-m, m];
  }
  return hi > lo ? [lo, hi] : [lo - 1, lo + 1];
}

// Write `values` (row-major) into `pixels` (RGBA) using `lut` over [lo, hi];
// indices >= `filled` (when given) get the empty colour. One 32-bit store per cell (the LUT read
// as words): a 256x256 live repaint is a quarter of the byte-wise writes.
export function paint(pixels, values, lo, hi, lut, filled = values.length) {
  const scale = 255 / (hi - lo);
  const words = new Uint32Array(pixels.buffer, pixels.byteOffset, pixels.length >> 2);
  const table = lutWords(lut);
  const n = Math.min(values.length, filled);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (Number.isNaN(v)) {
      words[i] = EMPTY_WORD; // NaN: not computed
      continue;
    }
    const k = Math.round((v - lo) * scale);
    words[i] = table[k < 0 ? 0 : Math.min(k, 255)];
  }
  words.fill(EMPTY_WORD, n, values.length);
}

// A LUT's 256 RGBA entries as words in the platform's byte order (what an ImageData's buffer holds).
const wordTables = new WeakMap();
function lutWords(lut) {
  let t = wordTables.get(lut);
  if (!t) {
    t = new Uint32Array(new Uint8ClampedArray(lut).buffer);
    wordTables.set(lut, t);
  }
  return t;
}
const EMPTY_WORD = new Uint32Array(new Uint8ClampedArray(EMPTY_RGBA).buffer)[0];

// Black or white text, whichever reads better on the cell's colour.
export function textColour(lut, value, lo, hi) {
  let k = Math.round(((value - lo) / (hi - lo)) * 255);
  k = (k < 0 ? 0 : Math.min(k, 255)) * 4;
  const luma = 0.299 * lut[k] + 0.587 * lut[k + 1] + 0.114 * lut[k + 2];
  return luma > 140 ? '#111' : '#fff';
}

// CSS gradient for a legend bar.
export function cssGradient(lut) {
  const stops = [];
  for (let i = 0; i <= 255; i += 51) stops.push(`rgb(${lut[i * 4]},${lut[i * 4 + 1]},${lut[i * 4 + 2]})`);
  return `linear-gradient(to right, ${stops.join(',')})`;
}
