// Plotly figures of the activations page, built by pure functions from the server's answers:
// f and f' with the saturated bands, softmax's input and output bars, and the dying-ReLU run.

const CONFIG = { displayModeBar: false, responsive: false };
const FONT = { size: 11 };
const F_COLOUR = '#0072b2';
const GRAD_COLOUR = '#d55e00';
const DEAD = '#a4161a';
const ALIVE = '#0072b2';
const PIECES = ['#009e73', '#cc79a7', '#e69f00', '#56b4e9'];

function layout(title, extra = {}) {
  return {
    width: 470,
    height: 280,
    margin: { l: 48, r: 12, t: 30, b: 40 },
    title: { text: title, font: { size: 13 }, x: 0, xanchor: 'left' },
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: '#fafbfc',
    showlegend: false,
    ...extra,
  };
}

const band = (x0, x1) => ({
  type: 'rect',
  xref: 'x',
  yref: 'paper',
  x0,
  x1,
  y0: 0,
  y1: 1,
  layer: 'below',
  fillcolor: 'rgba(164,22,26,0.10)',
  line: { width: 0 },
});

const vline = (x, colour = '#555') => ({
  type: 'line',
  xref: 'x',
  yref: 'paper',
  x0: x,
  x1: x,
  y0: 0,
  y1: 1,
  line: { color: colour, width: 1, dash: 'dot' },
});

// f (data[0]) and f' (data[1]) over x; maxout adds its pieces; `point` marks one x; `size` is
// the {width, height} the page has room for.
export function curveFigure(res, point, size = { width: 640, height: 340 }) {
  const data = [
    { type: 'scatter', mode: 'lines', x: res.x, y: res.f, name: 'f(x)', line: { color: F_COLOUR, width: 2.5 } },
    {
      type: 'scatter',
      mode: 'lines',
      x: res.x,
      y: res.grad,
      name: 'f′(x)',
      line: { color: GRAD_COLOUR, width: 2, dash: 'dash' },
    },
  ];
  if (res.pieces) {
    const k = res.pieces[0].length;
    for (let j = 0; j < k; j++) {
      data.push({
        type: 'scatter',
        mode: 'lines',
        x: res.x,
        y: res.pieces.map((row) => row[j]),
        name: `piece ${j + 1}`,
        line: { color: PIECES[j % PIECES.length], width: 1, dash: 'dot' },
        hoverinfo: 'skip',
      });
    }
  }
  if (point) {
    data.push({
      type: 'scatter',
      mode: 'markers',
      x: [point.x, point.x],
      y: [point.f, point.grad],
      name: 'x',
      marker: { color: [F_COLOUR, GRAD_COLOUR], size: 9, line: { color: '#fff', width: 1 } },
      hoverinfo: 'skip',
    });
  }
  const shapes = res.intervals.map(([x0, x1]) => band(x0, x1));
  if (point) shapes.push(vline(point.x));
  return {
    data,
    layout: layout('', {
      ...size,
      shapes,
      showlegend: true,
      hovermode: 'x',
      legend: { font: FONT, orientation: 'h', x: 0, y: 1, yanchor: 'bottom' },
      xaxis: { title: { text: 'x', font: FONT }, range: [res.x[0], res.x[res.x.length - 1]], zeroline: true },
      yaxis: { zeroline: true },
      margin: { l: 48, r: 12, t: 30, b: 40 },
    }),
    config: CONFIG,
  };
}

// softmax: z / T and the output, side by side, in the {width, height} the page has room for.
export function softmaxFigure(res, size = { width: 640, height: 260 }) {
  const labels = res.z.map((_, i) => `${i + 1}`);
  const data = [
    { type: 'bar', x: labels, y: res.scaled, name: 'z / T', marker: { color: '#9aa3ad' }, xaxis: 'x', yaxis: 'y' },
    { type: 'bar', x: labels, y: res.output, name: 'softmax', marker: { color: F_COLOUR }, xaxis: 'x2', yaxis: 'y2' },
  ];
  return {
    data,
    layout: layout('', {
      ...size,
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      xaxis: { title: { text: 'z / T', font: FONT } },
      xaxis2: { title: { text: 'softmax(z / T)', font: FONT } },
      yaxis2: { range: [0, 1] },
      margin: { l: 40, r: 12, t: 12, b: 40 },
    }),
    config: CONFIG,
  };
}

const colours = (dead) => dead.map((d) => (d ? DEAD : ALIVE));
const units = (n) => Array.from({ length: n }, (_, j) => j + 1);

// Each unit's range of pre-activations over the data at step i: a bar from min to max.
export function rangesFigure(res, i) {
  const s = res.steps;
  const lo = s.pre_min[i],
    hi = s.pre_max[i];
  return {
    data: [
      {
        type: 'bar',
        x: units(lo.length),
        y: hi.map((h, j) => h - lo[j]),
        base: lo,
        marker: { color: colours(s.dead[i]) },
        hovertemplate: 'unit %{x}: z from %{base:.3g} to %{y:.3g} above it<extra></extra>',
      },
    ],
    layout: layout(`each unit's z = w₁x + b₁ over the data (step ${i})`, {
      xaxis: { title: { text: 'hidden unit', font: FONT }, dtick: 1 },
      yaxis: { zeroline: true, zerolinewidth: 2 },
    }),
    config: CONFIG,
  };
}

// |dL/dw1| of each unit at step i: exactly 0 for the dead.
export function gradsFigure(res, i) {
  const s = res.steps;
  return {
    data: [
      {
        type: 'bar',
        x: units(s.grad_w1[i].length),
        y: s.grad_w1[i].map(Math.abs),
        marker: { color: colours(s.dead[i]) },
      },
    ],
    layout: layout(`|∂L/∂w₁| of each unit (step ${i})`, {
      xaxis: { title: { text: 'hidden unit', font: FONT }, dtick: 1 },
      yaxis: { rangemode: 'tozero' },
    }),
    config: CONFIG,
  };
}

// Loss and fraction of dead units over the steps, the current one marked.
export function historyFigure(res, i) {
  const steps = res.steps.loss.map((_, k) => k);
  return {
    data: [
      { type: 'scatter', mode: 'lines', x: steps, y: res.steps.loss, name: 'loss', line: { color: F_COLOUR } },
      {
        type: 'scatter',
        mode: 'lines',
        x: steps,
        y: res.steps.dead_fraction,
        name: 'fraction dead',
        yaxis: 'y2',
        line: { color: DEAD, shape: 'hv' },
      },
    ],
    layout: layout('loss and fraction of dead units', {
      showlegend: true,
      legend: { font: FONT, orientation: 'h', y: -0.25 },
      shapes: [vline(i)],
      xaxis: { title: { text: 'step', font: FONT } },
      yaxis: { rangemode: 'tozero' },
      yaxis2: { overlaying: 'y', side: 'right', range: [0, 1.02], showgrid: false },
      margin: { l: 48, r: 40, t: 30, b: 56 },
    }),
    config: CONFIG,
  };
}

// The target curve and the network's output at step i.
export function fitFigure(res, i) {
  return {
    data: [
      {
        type: 'scatter',
        mode: 'markers',
        x: res.x,
        y: res.target,
        name: 'target',
        marker: { color: '#9aa3ad', size: 5 },
      },
      {
        type: 'scatter',
        mode: 'lines',
        x: res.x,
        y: res.steps.prediction[i],
        name: 'network',
        line: { color: F_COLOUR, width: 2 },
      },
    ],
    layout: layout(`the fit at step ${i}`, {
      showlegend: true,
      legend: { font: FONT, orientation: 'h', y: -0.25 },
      margin: { l: 48, r: 12, t: 30, b: 56 },
    }),
    config: CONFIG,
  };
}

export function draw(id, figure) {
  window.Plotly.react(id, figure.data, figure.layout, figure.config);
}
