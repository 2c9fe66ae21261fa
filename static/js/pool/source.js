// Where the pooled map comes from when it is a conv page feature map: the conv settings in
// words, a link back to that exact conv view, and the map before and after its ReLU
// (the map after it is the input the server pooled).

import { encode as convURL } from '../urlstate.js';
import { drawGrid } from './draw.js';

const pair = (v) => (Array.isArray(v) ? v : [v, v]);

// The conv page's URL for these settings, stepping the chosen filter.
export function convLink(conv, filter) {
  const state = {
    ...conv,
    bias: conv.bias ?? conv.weight.map(() => 0),
    stride: pair(conv.stride),
    dilation: pair(conv.dilation),
    padding: typeof conv.padding === 'string' ? conv.padding : pair(conv.padding),
    filter,
    step: 0,
  };
  return `/conv${convURL(state)}`;
}

export function renderSource(section, state, source, input, views) {
  section.hidden = !source;
  if (!source) return;
  const text = document.getElementById('source-text');
  const [oh, ow] = [source.conv_output.length, source.conv_output[0].length];
  const relu = source.relu ? ', then ReLU' : '';
  const image = state.conv.image.startsWith('upload:')
    ? 'an uploaded image'
    : `the ${state.conv.image.replaceAll('_', ' ')} image`;
  text.replaceChildren(
    `Input: filter ${source.filter + 1} of `,
    Object.assign(document.createElement('code'), { textContent: source.torch }),
    ` on ${image}${relu}: a ${oh}×${ow} feature map, pooled below. `,
    Object.assign(document.createElement('a'), {
      id: 'conv-back',
      href: convLink(state.conv, source.filter),
      textContent: '← back to these conv settings',
    }),
  );
  drawGrid(views.conv, source.conv_output, `Conv, filter ${source.filter + 1}`);
  views.relu.el.hidden = !source.relu;
  if (source.relu) drawGrid(views.relu, input, 'After ReLU');
}
