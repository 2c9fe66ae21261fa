// The input plane: a heatmap of one neuron's map, the output region's edge, the first layer's
// lines as draggable Plotly shapes with an arrow on their positive side, and the stepper's point.
// Data, layout and config are built by pure functions from the engine's answer; the only maths
// here is turning a dragged segment back into the line's weights (a user gesture, sent to the
// engine, which answers with the numbers drawn).

export const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#000000', '#b8a400'];
const CONFIG = { displayModeBar: false, responsive: false, edits: { shapePosition: true } };
const COLOURS = {
  signed: [
    [0, '#2166ac'],
    [0.5, '#f7f7f7'],
    [1, '#b2182b'],
  ],
  unsigned: [
    [0, '#f7f7f7'],
    [1, '#b2182b'],
  ],
};

const finite = (line) => line?.flat().every((v) => v !== null && Number.isFinite(v));

// Which map colours the plane: {layer, neuron} from the select's "l,j".
export function colourTarget(res, value) {
  const [l, j] = value ? String(value).split(',').map(Number) : [NaN, NaN]; // '': the output
  const layer = Math.min(Number.isInteger(l) ? l : res.layers.length - 1, res.layers.length - 1);
  return { layer, neuron: Math.min(Number.isInteger(j) ? j : 0, res.sizes[layer + 1] - 1) };
}

export function planeTraces(res, target, show, point) {
  const z = res.layers[target.layer][show][target.neuron];
  const signed = z.some((row) => row.some((v) => v < 0));
  const traces = [
    {
      type: 'heatmap',
      x: res.axis,
      y: res.axis,
      z,
      colorscale: signed ? COLOURS.signed : COLOURS.unsigned,
      zmid: signed ? 0 : undefined,
      colorbar: { thickness: 10, len: 0.8 },
      name: 'map',
      hovertemplate: 'x₁ %{x:.2f}, x₂ %{y:.2f}: %{z:.3f}<extra></extra>',
    },
    {
      type: 'contour',
      x: res.axis,
      y: res.axis,
      z: res.region[0],
      showscale: false,
      name: 'region',
      contours: { coloring: 'none', start: 0.5, end: 0.5, size: 1 },
      line: { color: '#111', width: 2.5 },
      hoverinfo: 'skip',
    },
  ];
  if (point) {
    traces.push({
      type: 'scatter',
      mode: 'markers',
      x: [point[0]],
      y: [point[1]],
      name: 'point',
      marker: { size: 11, color: '#fff', line: { color: '#111', width: 2 } },
      hoverinfo: 'skip',
    });
  }
  return traces;
}

// One editable line per first-layer neuron that crosses the plane; `neurons[k]` says whose shape k is.
export function lineShapes(res, current) {
  const shapes = [],
    neurons = [];
  res.lines.forEach((line, j) => {
    if (!finite(line)) return;
    const [[x0, y0], [x1, y1]] = line;
    shapes.push({
      type: 'line',
      x0,
      y0,
      x1,
      y1,
      xref: 'x',
      yref: 'y',
      line: { color: PALETTE[j % PALETTE.length], width: j === current ? 6 : 3.5 },
    });
    neurons.push(j);
  });
  return { shapes, neurons };
}

// An arrow from each line's midpoint towards w: the side where w·x + b > 0.
export function sideArrows(res) {
  const extent = res.axis[res.axis.length - 1];
  return res.lines.flatMap((line, j) => {
    if (!finite(line)) return [];
    const [[x0, y0], [x1, y1]] = line;
    const [nx, ny] = res.normals[j];
    const mx = (x0 + x1) / 2,
      my = (y0 + y1) / 2,
      len = 0.12 * extent;
    return [
      {
        x: mx + nx * len,
        y: my + ny * len,
        ax: mx,
        ay: my,
        xref: 'x',
        yref: 'y',
        axref: 'x',
        ayref: 'y',
        showarrow: true,
        arrowhead: 2,
        arrowwidth: 2,
        arrowcolor: PALETTE[j % PALETTE.length],
        text: '',
      },
    ];
  });
}

// side: the plot's height in px; its width adds room for the colour bar.
export function planeLayout(res, shapes, title, side = 440) {
  const e = res.axis[res.axis.length - 1];
  return {
    width: side + 30,
    height: side,
    margin: { l: 40, r: 10, t: 30, b: 36 },
    title: { text: title, font: { size: 13 }, x: 0, xanchor: 'left' },
    xaxis: { range: [-e, e], title: { text: 'x₁' }, zeroline: false, fixedrange: true, constrain: 'domain' },
    yaxis: { range: [-e, e], title: { text: 'x₂' }, zeroline: false, fixedrange: true, scaleanchor: 'x' },
    shapes,
    annotations: sideArrows(res),
    showlegend: false,
    dragmode: false,
    paper_bgcolor: 'rgba(0,0,0,0)',
  };
}

export function drawPlane(el, res, target, show, point, current, title, side) {
  const { shapes, neurons } = lineShapes(res, current);
  window.Plotly.react(el, planeTraces(res, target, show, point), planeLayout(res, shapes, title, side), CONFIG);
  return neurons;
}

// The weights and bias of the line through the dragged segment, keeping w's length and the side it
// points to (so a drag moves or turns the line without flipping or rescaling the neuron).
export function lineThrough(shape, w) {
  const dx = shape.x1 - shape.x0,
    dy = shape.y1 - shape.y0;
  let n = [-dy, dx];
  const norm = Math.hypot(n[0], n[1]);
  if (norm === 0) return null;
  if (n[0] * w[0] + n[1] * w[1] < 0) n = [-n[0], -n[1]];
  const scale = (Math.hypot(w[0], w[1]) || 1) / norm;
  const round = (v) => Math.round(v * 1000) / 1000 + 0; // + 0: no −0 in the table
  const weights = [round(n[0] * scale), round(n[1] * scale)];
  return { weights, bias: round(-(weights[0] * shape.x0 + weights[1] * shape.y0)) };
}
