// One query's step written out as a table (a row per key: its dot product, scaled and masked,
// its exp term and its weight; their sums under them), and the 2-D picture of the output as
// the sum of weighted value vectors (Plotly).

import { fmt } from '../format.js';
import { presenter } from '../classroom/mode.js';

const $ = (id) => document.getElementById(id);
const sub = (t) => `<sub>${t}</sub>`;

export function writeStep(res, i, labels) {
  const s = res.steps;
  const toks = res.tokens;
  const q = s.query[i];
  const scale = res.params.scale;
  const m = s.max[i];
  const head =
    `<tr><th>key j</th><th>q${sub(toks[q])}·k${sub('j')}</th><th>×${fmt(scale)}, masked: z${sub('j')}</th>` +
    `<th>e<sup>z<sub>j</sub> − ${fmt(m)}</sup></th><th>w${sub('j')} = e / Σ</th></tr>`;
  const rows = toks.map((_, j) => {
    const z = s.masked[i][j];
    return (
      `<tr><th>${labels[j]}</th><td>${fmt(s.scores[i][j])}</td><td>${z === null ? '−∞' : fmt(z)}</td>` +
      `<td>${fmt(s.exp[i][j])}</td><td><strong>${fmt(s.weights[i][j])}</strong></td></tr>`
    );
  });
  const total = s.weights[i].reduce((a, w) => a + w, 0);
  const sums =
    `<tr class="sum"><th>Σ</th><td></td><td></td><td id="att-exp-sum">${fmt(s.sum[i])}</td>` +
    `<td><strong id="att-weight-sum">${fmt(total)}</strong></td></tr>`;
  $('att-softmax').innerHTML = `<thead>${head}</thead><tbody>${rows.join('')}${sums}</tbody>`;
  $('att-softmax-note').textContent =
    `Entropy ${fmt(s.entropy[i])} nats; largest weight ${fmt(s.max_weight[i])}. ` +
    'A masked score is −∞, so its exp term and its weight are exactly 0.';
  drawPlane(res, i, labels);
}

const COLOURS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666'];

function drawPlane(res, i, labels) {
  const h = res.steps.head[i];
  const q = res.steps.query[i];
  const pts = res.plane.points[h];
  const weighted = res.plane.weighted[i];
  const out = res.plane.output[i];
  const annotations = [];
  let x = 0,
    y = 0;
  weighted.forEach(([dx, dy], j) => {
    if (Math.hypot(dx, dy) < 1e-9) return;
    annotations.push(arrow(x, y, x + dx, y + dy, COLOURS[j % COLOURS.length], 2));
    x += dx;
    y += dy;
  });
  annotations.push(arrow(0, 0, out[0], out[1], '#111', 3));
  const values = {
    type: 'scatter',
    mode: 'markers+text',
    name: 'values v_j',
    x: pts.map((p) => p[0]),
    y: pts.map((p) => p[1]),
    text: labels,
    textposition: 'top center',
    marker: { size: 8, color: labels.map((_, j) => COLOURS[j % COLOURS.length]) },
    hovertemplate: '%{text}: (%{x:.3f}, %{y:.3f})<extra></extra>',
  };
  const output = {
    type: 'scatter',
    mode: 'markers+text',
    name: 'output',
    x: [out[0]],
    y: [out[1]],
    text: [`out(${res.tokens[q]})`],
    textposition: 'bottom center',
    marker: { size: 11, symbol: 'star', color: '#111' },
    hoverinfo: 'skip',
  };
  const all = [...pts.flat(), out[0], out[1], 0].map(Math.abs);
  const r = Math.max(...all) * 1.25 || 1;
  const layout = {
    width: 380,
    height: presenter() ? 290 : 340,
    margin: { l: 40, r: 10, t: 10, b: 30 },
    showlegend: false,
    annotations,
    xaxis: { range: [-r, r], zeroline: true, title: { text: 'axis 1', font: { size: 11 } } },
    yaxis: { range: [-r, r], zeroline: true, scaleanchor: 'x', title: { text: 'axis 2', font: { size: 11 } } },
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
  };
  window.Plotly.react('att-plane', [values, output], layout, { displayModeBar: false, responsive: false });
  $('att-plane-note').textContent =
    `Head ${h + 1}: the plane keeps ${fmt(100 * res.plane.kept[h], 1)}% of the ` +
    'values’ squared length. Coloured arrows: wⱼ·vⱼ added tip to tail; black arrow: the output.';
}

function arrow(x0, y0, x1, y1, colour, width) {
  return {
    x: x1,
    y: y1,
    ax: x0,
    ay: y0,
    xref: 'x',
    yref: 'y',
    axref: 'x',
    ayref: 'y',
    showarrow: true,
    arrowhead: 2,
    arrowsize: 1,
    arrowwidth: width,
    arrowcolor: colour,
    text: '',
  };
}
