// Plotly charts of the normalization page, built by pure functions from the server's numbers:
// histograms before and after (bins computed on the server), batch norm's running statistics
// per channel against the true values, and the small-batch comparison.

import { fmt } from '../format.js';
import { react } from '../kit/plotly-ready.js';

// Okabe-Ito: told apart with any colour vision
export const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#000000', '#b8a400'];
const CONFIG = { displayModeBar: false, responsive: false };
const FONT = { size: 11 };

function layout(title, xTitle, yTitle, extra = {}) {
  return {
    width: 430,
    height: 260,
    margin: { l: 48, r: 10, t: 30, b: 40 },
    title: { text: title, font: { size: 13 }, x: 0, xanchor: 'left' },
    xaxis: { title: { text: xTitle, font: FONT }, zeroline: false },
    yaxis: { title: { text: yTitle, font: FONT }, rangemode: 'tozero' },
    legend: { font: FONT, orientation: 'h', y: -0.25 },
    showlegend: false,
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: '#fafbfc',
    ...extra,
  };
}

const bars = (hist, y, name, colour, opacity = 0.55) => ({
  type: 'bar',
  x: hist.centers,
  y,
  width: hist.width,
  name,
  opacity,
  marker: { color: colour },
  hovertemplate: `${name}: %{y} values near %{x:.3g}<extra></extra>`,
});

// One histogram: per channel every series; per group the stepped group against all values.
export function histogramTraces(hist, labels, by, group) {
  if (by === 'group') {
    return [
      bars(hist, hist.total, 'all values', '#9aa3ad', 0.45),
      bars(hist, hist.counts[group], labels[group], '#e08a00', 0.8),
    ];
  }
  return hist.counts.map((counts, s) => bars(hist, counts, labels[s], PALETTE[s % PALETTE.length]));
}

export function drawHistograms(res, group) {
  const { by, labels } = res.histograms;
  for (const [id, key, title] of [
    ['hist-before', 'before', 'before'],
    ['hist-after', 'after', 'after'],
  ]) {
    const traces = histogramTraces(res.histograms[key], labels, by, Math.min(group, labels.length - 1));
    react(id, traces, layout(title, 'value', 'count', { barmode: 'overlay', showlegend: traces.length <= 8 }), CONFIG);
  }
}

// Running mean or variance per channel after each batch, with the true value dashed.
export function runningTraces(series, truth) {
  const x = series.map((_, k) => k);
  const traces = [];
  truth.forEach((value, c) => {
    const colour = PALETTE[c % PALETTE.length];
    traces.push({
      type: 'scatter',
      mode: 'lines',
      x,
      y: series.map((row) => row[c]),
      name: `channel ${c}`,
      line: { color: colour, width: 2 },
    });
    traces.push({
      type: 'scatter',
      mode: 'lines',
      x: [0, x.length - 1],
      y: [value, value],
      name: `channel ${c}, true`,
      line: { color: colour, width: 1, dash: 'dash' },
      hoverinfo: 'skip',
      showlegend: false,
    });
  });
  return traces;
}

export function drawRunning(stream) {
  const batches = 'batches seen';
  react(
    'running-mean',
    runningTraces(stream.running_mean, stream.population.mean),
    layout('running mean', batches, '', { yaxis: { rangemode: 'normal' }, showlegend: true }),
    CONFIG,
  );
  react(
    'running-var',
    runningTraces(stream.running_var, stream.population.var),
    layout('running variance', batches, '', { showlegend: true }),
    CONFIG,
  );
}

export function drawSmallBatch(small) {
  const hist = small.histogram;
  const traces = small.sizes.map((s, k) => bars(hist, hist.counts[k], `batch of ${s.size}`, PALETTE[k ? 0 : 5]));
  react(
    'small-batch-chart',
    traces,
    layout(`the same sample's x̂ minus its true x̂, over ${small.trials} batches of each size`, 'error of x̂', 'count', {
      barmode: 'overlay',
      width: 640,
      showlegend: true,
    }),
    CONFIG,
  );
  const rows = small.sizes.map((s) => {
    const tr = document.createElement('tr');
    for (const v of [s.size, fmt(s.mean_error), fmt(s.var_error), fmt(s.spread), fmt(s.worst)]) {
      const td = document.createElement(tr.children.length ? 'td' : 'th');
      td.textContent = String(v);
      tr.append(td);
    }
    return tr;
  });
  document.querySelector('#small-batch-table tbody').replaceChildren(...rows);
}
