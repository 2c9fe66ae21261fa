// One query's step written out: its dot products, the softmax with the exp terms and their
// sum, and the 2-D picture of the output as the sum of weighted value vectors (Plotly).

import { fmt } from '../format.js';

const $ = (id) => document.getElementById(id);
const sub = (t) => `<sub>${t}</sub>`;

export function writeStep(res, i, labels) {
  const s = res.steps;
  const toks = res.tokens;
  const q = s.query[i];
  const n = toks.length;
  const scale = res.params.scale;
  const dots = [];
  for (let j = 0; j < n; j++) {
    const z = s.masked[i][j];
    const after = z === null ? '−∞ (masked)' : fmt(z);
    dots.push(
      `<span class="term">q${sub(toks[q])}·k${sub(toks[j])} = ${fmt(s.scores[i][j])} → ×${fmt(scale)} = ${after}</span>`,
    );
  }
  $('att-dots').innerHTML = dots.join('<br>');
  const m = s.max[i];
  const exps = s.exp[i].map(
    (e, j) => `e<sup>${s.masked[i][j] === null ? '−∞' : fmt(s.masked[i][j])} − ${fmt(m)}</sup> = ${fmt(e)}`,
  );
  $('att-exps').innerHTML = `${exps.join(' + ')}<br>Σ = <strong id="att-exp-sum">${fmt(s.sum[i])}</strong>`;
  let total = 0;
  const ws = s.weights[i].map((w, j) => {
    total += w;
    return `w${sub(toks[j])} = ${fmt(s.exp[i][j])} / ${fmt(s.sum[i])} = <strong>${fmt(w)}</strong>`;
  });
  $('att-softmax').innerHTML =
    `${ws.join(', ')}<br>Σ w = <strong id="att-weight-sum">${fmt(total)}</strong>` +
    ` · entropy ${fmt(s.entropy[i])} nats · largest weight ${fmt(s.max_weight[i])}`;
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
    height: 340,
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
