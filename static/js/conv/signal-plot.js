// A 1-D input as seed 002 draws it: the signal and the convolution's output row as two lines on
// one chart, so [-1, 1] visibly gives the signal's changes (its derivative). The numbers are the
// trace's own input and output; Plotly only draws them.

import { fmt } from '../format.js';
import { react } from '../kit/plotly-ready.js';

const CONFIG = { displayModeBar: false, responsive: false, staticPlot: false };

// The output row whose windows centre on the signal (row 0 of the input, `top` rows down the
// padded input): one row when nothing pads above or below.
export function signalRow(params) {
  const [top] = params.pads;
  const [kh] = params.kernel_size;
  const [oh] = params.output_size;
  const r = Math.round((top - Math.floor((kh - 1) / 2) * params.dilation[0]) / params.stride[0]);
  return Math.min(Math.max(r, 0), oh - 1);
}

function kernelText(weight) {
  const k = weight[0];
  const row = (cells) => `[${cells.map((v) => fmt(v)).join(', ')}]`;
  return k.length === 1 ? row(k[0]) : `[${k.map(row).join(', ')}]`;
}

// stages: the trace's first answer (stages.input (1, 1, W), stages.output, stages.params).
export function drawSignal(el, stages, { width, height }) {
  const signal = stages.stages.input[0][0];
  const row = signalRow(stages.params);
  const output = stages.output[row];
  const data = [
    {
      type: 'scatter',
      mode: 'lines+markers',
      name: 'input signal x',
      x: signal.map((_, i) => i),
      y: signal,
      line: { color: '#4d4d4d', width: 3 },
      marker: { size: 8 },
      hovertemplate: 'x[%{x}] = %{y}<extra></extra>',
    },
    {
      type: 'scatter',
      mode: 'lines+markers',
      name: stages.output.length > 1 ? `output y, row ${row}` : 'output y (feature map)',
      x: output.map((_, i) => i),
      y: output,
      line: { color: '#b2182b', width: 3, dash: 'dot' },
      marker: { size: 8, symbol: 'square' },
      hovertemplate: 'y[%{x}] = %{y}<extra></extra>',
    },
  ];
  const layout = {
    width,
    height,
    margin: { l: 44, r: 10, t: 30, b: 34 },
    title: {
      text: `The signal and its convolution with ${kernelText(stages.stages.weight)}`,
      font: { size: 13 },
      x: 0,
      xanchor: 'left',
    },
    legend: { orientation: 'h', x: 1, xanchor: 'right', y: 1.02, yanchor: 'bottom' },
    xaxis: { title: { text: 'position', font: { size: 11 } }, dtick: 1, zeroline: false },
    yaxis: { zeroline: true, zerolinewidth: 2, zerolinecolor: '#888' },
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
  };
  react(el, data, layout, CONFIG); // now, or once Plotly.js is there: the page starts before it
}
