// Line charts: the three kinds' outputs over time (/api/recurrent/compare) and the gradient
// norms ‖∂h_T/∂x_t‖ on a log scale (/api/recurrent/gradients). Plotly draws what arrives.

import { react } from '../kit/plotly-ready.js';

const NAMES = { rnn: 'Simple RNN', lstm: 'LSTM', gru: 'GRU' };
const KIND_COLOURS = { rnn: '#b2182b', lstm: '#2166ac', gru: '#1b7837' };
const UNIT_COLOURS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666'];
const CONFIG = { displayModeBar: false, responsive: false };
const $ = (id) => document.getElementById(id);

export function initCompare(kinds, onPick) {
  for (const kind of kinds) {
    const box = document.createElement('div');
    box.id = `rnn-compare-${kind}`;
    box.className = 'rnn-chart compare';
    box.addEventListener('click', () => onPick(kind));
    $('rnn-compare').append(box);
  }
}

// One chart per kind, a line per output unit; the selected kind framed, the current time marked.
export function drawCompare(res, selected, time) {
  const t = res.labels.map((_, k) => k + 1);
  for (const kind of res.kinds) {
    const out = res.output[kind];
    const units = out[0].length;
    const half = units / 2;
    const data = Array.from({ length: units }, (_, j) => ({
      type: 'scatter',
      mode: 'lines+markers',
      x: t,
      y: out.map((row) => row[j]),
      name: `unit ${j}`,
      line: {
        color: UNIT_COLOURS[j % UNIT_COLOURS.length],
        width: 1.6,
        dash: res.bidirectional && j >= half ? 'dot' : 'solid',
      },
      marker: { size: 4 },
      hovertemplate: `unit ${j}, t=%{x}: %{y:.3f}<extra></extra>`,
    }));
    const layout = {
      width: 330,
      height: 230,
      margin: { l: 40, r: 10, t: 28, b: 32 },
      showlegend: false,
      title: { text: NAMES[kind], font: { size: 13, color: KIND_COLOURS[kind] }, x: 0.02, xanchor: 'left' },
      xaxis: { title: { text: 't', font: { size: 11 } }, dtick: t.length > 12 ? undefined : 1 },
      yaxis: { zeroline: true },
      shapes: [
        { type: 'line', x0: time + 1, x1: time + 1, yref: 'paper', y0: 0, y1: 1, line: { color: '#ffb000', width: 2 } },
      ],
      paper_bgcolor: 'rgba(0,0,0,0)',
      plot_bgcolor: 'rgba(0,0,0,0)',
    };
    const box = $(`rnn-compare-${kind}`);
    box.classList.toggle('selected', kind === selected);
    react(box, data, layout, CONFIG);
  }
}

export function drawGradients(res) {
  const data = res.kinds.map((kind) => ({
    type: 'scatter',
    mode: 'lines+markers',
    name: NAMES[kind],
    x: res.norms[kind].map((_, t) => t + 1),
    y: res.norms[kind],
    line: { color: KIND_COLOURS[kind], width: 2 },
    marker: { size: 5 },
    hovertemplate: `${NAMES[kind]}: ‖∂h_T/∂x_%{x}‖ = %{y:.3e}<extra></extra>`,
  }));
  const layout = {
    width: 640,
    height: 320,
    margin: { l: 60, r: 10, t: 10, b: 40 },
    legend: { orientation: 'h', x: 0, y: 1.12 },
    xaxis: { title: { text: 'input step t (T is the last)', font: { size: 11 } } },
    yaxis: { type: 'log', title: { text: '‖∂h_T/∂x_t‖', font: { size: 11 } }, exponentformat: 'power' },
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
  };
  react('rnn-grad-chart', data, layout, CONFIG);
}
