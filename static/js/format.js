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
