// The family page's state in the URL: ?variant=<tab>&<that tab's settings>&step=<n>,
// each setting typed as its default (see typed-url.js).

import { fromAddress, writeParams } from '../typed-url.js';

export function encode(variant, state, step) {
  const q = new URLSearchParams();
  q.set('variant', variant);
  writeParams(q, state);
  if (step !== null) q.set('step', String(step));
  return `?${q.toString()}`;
}

export const decode = (q, defaults) => fromAddress(defaults, {}, {}, q.toString());
