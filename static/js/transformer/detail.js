// One query of the selected head written out as a table (a row per key: q·k, scaled, the mask, the
// exp term, the weight; the sums under them), and the next-word probabilities as bars.

import { fmt } from '../format.js';

const $ = (id) => document.getElementById(id);
const sub = (t) => `<sub>${t}</sub>`;
const html = (t) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function writeSoftmax(res, q) {
  const hd = res.head;
  const toks = res.tokens.map(html);
  const { layer, head } = res.params;
  const head1 =
    `<tr><th>key j</th><th>q·k${sub('j')}</th><th>× ${fmt(hd.scale)}</th><th>+ M</th>` +
    `<th>e<sup>z − ${fmt(hd.max[q])}</sup></th><th>w${sub('j')}</th></tr>`;
  const rows = toks.map((t, j) => {
    const z = hd.masked[q][j];
    return (
      `<tr><th>${j} ${t}</th><td>${fmt(hd.scores[q][j])}</td><td>${fmt(hd.scaled[q][j])}</td>` +
      `<td>${z === null ? '−∞' : '0'}</td><td>${fmt(hd.exp[q][j])}</td>` +
      `<td><strong>${fmt(hd.weights[q][j])}</strong></td></tr>`
    );
  });
  const total = hd.weights[q].reduce((a, w) => a + w, 0);
  const sums =
    `<tr class="sum"><th>Σ</th><td></td><td></td><td></td><td id="tf-exp-sum">${fmt(hd.sum[q])}</td>` +
    `<td><strong id="tf-weight-sum">${fmt(total)}</strong></td></tr>`;
  $('tf-softmax').innerHTML = `<thead>${head1}</thead><tbody>${rows.join('')}${sums}</tbody>`;
  $('tf-head-title').textContent = `Layer ${layer}, head ${head}: query ${q} “${res.tokens[q]}”`;
  $('tf-softmax-note').innerHTML =
    `z${sub('j')} = q·k${sub('j')}/√${hd.d_k} + M${sub('j')}; a key after the query is masked (−∞): ` +
    'its exp term and its weight are exactly 0. w = e / Σ.';
}

export function writeNext(res, q) {
  const n = res.next;
  const words = n.words[q];
  const probs = n.probs[q];
  const sampled = n.sampled[q];
  $('tf-next-after').textContent = res.tokens[q];
  $('tf-probs').innerHTML = words
    .map((w, i) => {
      const p = probs[i];
      const mark = w === sampled ? ' sampled' : '';
      return (
        `<div class="tf-bar${mark}"><span class="tf-word">${html(w)}</span>` +
        `<span class="tf-track"><span class="tf-fill" style="width:${(100 * p).toFixed(2)}%"></span></span>` +
        `<span class="tf-p">${fmt(p)}</span></div>`
      );
    })
    .join('');
  $('tf-sampled').textContent = sampled;
  $('tf-seed-shown').textContent = String(n.seed);
}
