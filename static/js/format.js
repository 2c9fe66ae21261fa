// Number formatting for display only: the numbers themselves come from the engine.

export function fmt(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return '·';
  if (Number.isInteger(v)) return String(v).replace('-', '−');
  const a = Math.abs(v);
  let s;
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) s = v.toExponential(1);
  else s = v.toFixed(digits).replace(/\.?0+$/, '');
  if (s === '-0') s = '0';
  return s.replace('-', '−');
}

// Shorter form for a cell label.
export function fmtCell(v) {
  return fmt(v, Math.abs(v) >= 10 ? 1 : 2);
}

// A factor in a product: negatives in parentheses.
export function factor(v) {
  const s = fmt(v);
  return v < 0 ? `(${s})` : s;
}

// The labels for a map's cells, one precision for the whole map: whole numbers when every value
// is one, otherwise 2 decimals (1 from 10, none from 100; up to 3 when the map's values are all
// small), so neighbouring cells read alike. A value that rounds to zero at that precision (sin(π)
// = 1.2e−16, say) prints as 0. Huge maps (|v| ≥ 10⁴) use two significant digits.
// `fewer` drops that many decimals (never below one, for a map that is not whole numbers), for a
// map whose cells are too small for the usual precision.
export function mapLabels(values, n = values.length, fewer = 0) {
  let big = 0,
    whole = true;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || Number.isNaN(v)) continue;
    const a = Math.abs(v);
    if (a > big) big = a;
    if (whole && Math.abs(v - Math.round(v)) > 1e-9 * Math.max(1, a)) whole = false;
  }
  let label;
  if (big >= 1e4) label = (v) => v.toPrecision(2).replace('e+', 'e');
  else {
    const usual = whole ? 0 : big >= 100 ? 0 : big >= 10 ? 1 : big >= 0.1 ? 2 : 3;
    const decimals = usual === 0 ? 0 : Math.max(1, usual - fewer);
    label = (v) => v.toFixed(decimals);
  }
  const texts = new Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || Number.isNaN(v)) {
      texts[i] = '·';
      continue;
    }
    let s = label(v);
    if (/^-?0(\.0*)?$/.test(s)) s = '0';
    texts[i] = s.replace('-', '−');
  }
  return texts;
}
