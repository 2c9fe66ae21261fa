// The calculator's state in the URL, so a copied link reopens the same stack and selection.
// Layers travel as JSON [[kind, args], ...]; the server validates whatever arrives.

export function encode(state) {
  const q = new URLSearchParams();
  q.set('in', state.input.join(','));
  q.set('layers', JSON.stringify(state.layers.map((l) => (Object.keys(l.args).length ? [l.kind, l.args] : [l.kind]))));
  q.set('sel', String(state.sel));
  if (state.pos) q.set('pos', state.pos.join(','));
  if (state.preset) q.set('preset', state.preset);
  return `?${q.toString()}`;
}

const ints = (s) =>
  (s || '')
    .split(',')
    .filter((x) => x !== '')
    .map(Number);

// Missing or broken fields fall back to `defaults`.
export function decode(search, defaults) {
  const q = new URLSearchParams(search);
  if (!q.has('layers')) return structuredClone(defaults);
  let layers;
  try {
    layers = JSON.parse(q.get('layers')).map(([kind, args]) => ({
      kind: String(kind),
      args: args && typeof args === 'object' && !Array.isArray(args) ? args : {},
    }));
  } catch {
    return structuredClone(defaults);
  }
  const input = ints(q.get('in'));
  const sel = Number(q.get('sel'));
  const pos = ints(q.get('pos'));
  return {
    input: input.length >= 1 && input.length <= 3 && input.every(Number.isInteger) ? input : defaults.input,
    layers,
    sel: Number.isInteger(sel) && sel >= 0 && sel < layers.length ? sel : 0,
    pos: pos.length === 2 && pos.every(Number.isInteger) ? pos : null,
    preset: q.get('preset') || null,
  };
}
