// The initialization demo's charts, built by pure functions from the engine's epochs: each hidden
// neuron's weights over training (constant start and random start), both loss curves, and both
// final decision regions with the toy set on top.

import { fmt } from '../format.js';
import { PALETTE } from './plane.js';

const CONFIG = { displayModeBar: false, responsive: false, staticPlot: false };
const PARTS = [
  ['w₁', 'solid'],
  ['w₂', 'dash'],
  ['b', 'dot'],
];

function layout(title, xTitle, extra = {}) {
  return {
    width: 400,
    height: 280,
    margin: { l: 44, r: 10, t: 30, b: 40 },
    title: { text: title, font: { size: 13 }, x: 0, xanchor: 'left' },
    xaxis: { title: { text: xTitle, font: { size: 11 } }, zeroline: false },
    yaxis: { zeroline: true },
    showlegend: false,
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: '#fafbfc',
    ...extra,
  };
}

// One line per (neuron, part): neuron j's w1, w2 and b over the epochs, coloured by neuron.
export function weightTraces(res, mode) {
  const hidden = res.steps[`${mode}_hidden`]; // (E + 1, H, 3)
  const epochs = res.steps.epoch;
  const traces = [];
  hidden[0].forEach((_, j) =>
    PARTS.forEach(([part, dash], p) => {
      traces.push({
        type: 'scatter',
        mode: 'lines',
        x: epochs,
        y: hidden.map((e) => e[j][p]),
        name: `neuron ${j + 1} ${part}`,
        line: { color: PALETTE[j % PALETTE.length], dash, width: 2 },
      });
    }),
  );
  return traces;
}

export function lossTraces(res) {
  return [
    ['constant', '#d55e00'],
    ['random', '#0072b2'],
  ].map(([mode, color]) => ({
    type: 'scatter',
    mode: 'lines',
    x: res.steps.epoch,
    y: res.steps[`${mode}_loss`],
    name: `${mode} start`,
    line: { color, width: 2 },
  }));
}

export function regionTraces(res, k) {
  const { axis, points, labels } = res.stages;
  const traces = [
    {
      type: 'heatmap',
      x: axis,
      y: axis,
      z: res.output[k],
      zmin: 0,
      zmax: 1,
      colorbar: { thickness: 10, len: 0.8, title: { text: 'p', side: 'right' } },
      colorscale: [
        [0, '#deebf7'],
        [0.5, '#f7f7f7'],
        [1, '#fde0d2'],
      ],
      hoverinfo: 'skip',
    },
    {
      type: 'contour',
      x: axis,
      y: axis,
      z: res.output[k],
      showscale: false,
      hoverinfo: 'skip',
      contours: { coloring: 'none', start: 0.5, end: 0.5, size: 1 },
      line: { color: '#111', width: 2 },
    },
  ];
  for (const [cls, color] of [
    [0, '#2166ac'],
    [1, '#b2182b'],
  ]) {
    const pick = labels.map((y, i) => (y === cls ? i : -1)).filter((i) => i >= 0);
    traces.push({
      type: 'scatter',
      mode: 'markers',
      x: pick.map((i) => points[i][0]),
      y: pick.map((i) => points[i][1]),
      marker: { color, size: 6, line: { color: '#fff', width: 0.5 } },
      name: `class ${cls}`,
      hoverinfo: 'skip',
    });
  }
  return traces;
}

export function drawInit(res) {
  const { hidden } = res.params;
  for (const mode of ['constant', 'random']) {
    const title =
      mode === 'constant' ? `constant start: ${hidden} neurons' weights` : `random start: ${hidden} neurons' weights`;
    window.Plotly.react(`init-weights-${mode}`, weightTraces(res, mode), layout(title, 'epoch'), CONFIG);
  }
  window.Plotly.react(
    'init-loss',
    lossTraces(res),
    layout('loss (binary cross-entropy)', 'epoch', { showlegend: true, legend: { x: 1, xanchor: 'right', y: 1 } }),
    CONFIG,
  );
  ['constant', 'random'].forEach((mode, k) => {
    const e = res.stages.axis[res.stages.axis.length - 1];
    window.Plotly.react(
      `init-region-${mode}`,
      regionTraces(res, k),
      layout(`${mode} start: the final regions`, 'x₁', {
        width: 300,
        xaxis: { range: [-e, e], zeroline: false },
        yaxis: { range: [-e, e], scaleanchor: 'x', zeroline: false },
      }),
      CONFIG,
    );
  });
  const s = res.summary;
  const pct = (v) => `${fmt(100 * v, 1)}%`;
  document.getElementById('init-summary').textContent =
    `After ${res.params.epochs} epochs. Constant start: ` +
    `the ${hidden} hidden neurons never differ (largest difference between them ${fmt(s.constant.spread)}), ` +
    `loss ${fmt(s.constant.first_loss)} → ${fmt(s.constant.loss)}, accuracy ${pct(s.constant.accuracy)}. ` +
    `Random start: the neurons spread apart (up to ${fmt(s.random.spread)}), loss ${fmt(s.random.first_loss)}` +
    ` → ${fmt(s.random.loss)}, accuracy ${pct(s.random.accuracy)}.`;
}
