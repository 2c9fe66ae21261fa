// Clicking a feature map asks the server where that map can be opened (the conv page for conv1, the
// pooling page for pool1 and pool2) and shows the links with what they will show.

import { postJSON } from '../uploads.js';

const $ = (id) => document.getElementById(id);

// One <a> per link the server offers ({page, href, label}), its page named in data-page.
export function linkAnchors(links) {
  return links.map((l) => {
    const a = document.createElement('a');
    a.href = l.href;
    a.textContent = l.label;
    a.dataset.page = l.page;
    return a;
  });
}
const NAMES = {
  input: 'the input',
  conv1: 'conv1',
  relu1: 'conv1 after ReLU',
  pool1: 'pool1',
  conv2: 'conv2',
  relu2: 'conv2 after ReLU',
  pool2: 'pool2',
};

export async function showLinks(body, layer, channel, showError) {
  try {
    const res = await postJSON('/api/network/link', { ...body, layer, channel });
    $('link-title').textContent = `${NAMES[layer]}, channel ${channel}:`;
    $('link-list').replaceChildren(...linkAnchors(res.links));
    $('net-link-note').textContent = res.note;
    $('link-panel').hidden = false;
  } catch (err) {
    showError(err);
  }
}
