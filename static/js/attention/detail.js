// One query's step written out as a table (a row per key: its dot product, scaled and masked,
// its exp term and its weight; their sums under them), and the 2-D picture of the output as
// the sum of weighted value vectors (Plotly).

import { fmt } from '../format.js';
import { presenter } from '../classroom/mode.js';
import { presentLayout } from '../classroom/plotly-present.js';
import { react } from '../kit/plotly-ready.js';

const $ = (id) => document.getElementById(id);
const sub = (t) => `<sub>${t}</sub>`;

export function writeStep(res, i, labels) {
  const s = res.steps;
  const toks = res.tokens;
  const q = s.query[i];
  const scale = res.params.scale;
  const m = s.max[i];
  const head =
    `<tr><th>key j</th><th>q${sub(toks[q])}·k${sub('j')}</th><th>z${sub('j')} = ×${fmt(scale)}</th>` +
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
  $('att-softmax-note').innerHTML =
    `Entropy ${fmt(s.entropy[i])} nats; largest weight ${fmt(s.max_weight[i])}. ` +
    `z${sub('j')} is the dot product times ${fmt(scale)}, or −∞ where the key is masked: then its exp ` +
    'term and its weight are exactly 0.';
  drawPlane(res, i, labels);
}

const COLOURS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666'];
const MARGIN = { l: 40, r: 10, t: 10, b: 34 };

let size = { width: 380, height: 320, presenter: false };
let last = null; // the arguments of the plane last drawn, to draw it again at a new size

// The plane's box in px (views.js fits it to the room the step leaves); redrawn when it changed.
export function fitPlane(width, height) {
  const w = Math.round(width),
    h = Math.round(height);
  if (w === size.width && h === size.height && presenter() === size.presenter) return;
  size = { width: w, height: h, presenter: presenter() };
  if (last) drawPlane(...last);
}

function drawPlane(res, i, labels) {
  last = [res, i, labels];
  const h = res.steps.head[i];
  const q = res.steps.query[i];
  const pts = res.plane.points[h];
  const weighted = res.plane.weighted[i];
  const out = res.plane.output[i];
  const annotations = [];
  const path = [[0, 0]];
  let x = 0,
    y = 0;
  weighted.forEach(([dx, dy], j) => {
    if (Math.hypot(dx, dy) < 1e-9) return;
    annotations.push(arrow(x, y, x + dx, y + dy, COLOURS[j % COLOURS.length], 2));
    x += dx;
    y += dy;
    path.push([x, y]);
  });
  annotations.push(arrow(0, 0, out[0], out[1], '#111', 3));
  const all = [...pts.flat(), out[0], out[1], 0].map(Math.abs);
  const r = Math.max(...all) * 1.25 || 1;
  const fontPx = presenter() ? 17 : 12;
  const outName = `out(${res.tokens[q]})`;
  const place = placeLabels(
    [
      { x: out[0], y: out[1], text: outName, marker: 11 },
      ...pts.map(([px, py], j) => ({ x: px, y: py, text: labels[j], marker: 8 })),
    ],
    [[[0, 0], out], ...path.slice(1).map((p, k) => [path[k], p])],
    r,
    fontPx,
  );
  const values = {
    type: 'scatter',
    mode: 'markers+text',
    name: 'values v_j',
    x: pts.map((p) => p[0]),
    y: pts.map((p) => p[1]),
    text: place.slice(1).map((p) => p.text),
    textposition: place.slice(1).map((p) => p.position),
    textfont: { size: fontPx },
    customdata: labels,
    marker: { size: 8, color: labels.map((_, j) => COLOURS[j % COLOURS.length]) },
    hovertemplate: '%{customdata}: (%{x:.3f}, %{y:.3f})<extra></extra>',
  };
  const output = {
    type: 'scatter',
    mode: 'markers+text',
    name: 'output',
    x: [out[0]],
    y: [out[1]],
    text: [place[0].text],
    textposition: place[0].position,
    textfont: { size: fontPx },
    marker: { size: 11, symbol: 'star', color: '#111' },
    hoverinfo: 'skip',
  };
  const layout = {
    width: size.width,
    height: size.height,
    margin: MARGIN,
    showlegend: false,
    annotations,
    font: { size: 10 }, // presenter view scales the type and the margins (plotly-present.js)
    xaxis: { range: [-r, r], zeroline: true, title: { text: 'axis 1', standoff: 2 } },
    yaxis: { range: [-r, r], zeroline: true, scaleanchor: 'x', title: { text: 'axis 2', standoff: 2 } },
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
  };
  react('att-plane', [values, output], layout, { displayModeBar: false, responsive: false });
  $('att-plane-note').textContent =
    `Head ${h + 1}: the plane keeps ${fmt(100 * res.plane.kept[h], 1)}% of the ` +
    'values’ squared length. Coloured arrows: wⱼ·vⱼ added tip to tail; black arrow: the output.';
}

// Where each point's label goes: points that (nearly) coincide share one label ("we, on"); each
// label then takes, of the positions Plotly offers, the one that overlaps the labels placed
// before it, the markers and the arrows least, and stays inside the plot. Returns per point
// {text, position} (text '' for a point whose label a neighbour carries).
const POSITIONS = [
  'top center',
  'bottom center',
  'middle right',
  'middle left',
  'top right',
  'top left',
  'bottom right',
  'bottom left',
];

function placeLabels(points, segments, r, fontPx) {
  const m = presenter() ? presentLayout({ margin: MARGIN }).margin : MARGIN;
  const w = size.width - m.l - m.r,
    h = size.height - m.t - m.b;
  const k = Math.min(w, h) / (2 * r); // px per unit: the axes share one scale
  const toPx = ([x, y]) => [m.l + w / 2 + k * x, m.t + h / 2 - k * y];
  const at = points.map((p) => toPx([p.x, p.y]));
  const g = document.createElement('canvas').getContext('2d');
  g.font = `${fontPx}px "Open Sans", verdana, arial, sans-serif`;
  // obstacles: markers, and the arrows sampled every few px
  const obstacles = at.map(([x, y], j) => [
    x - points[j].marker / 2,
    y - points[j].marker / 2,
    points[j].marker,
    points[j].marker,
    3,
  ]);
  for (const [a, b] of segments) {
    const [x0, y0] = toPx(a),
      [x1, y1] = toPx(b);
    const n = Math.ceil(Math.hypot(x1 - x0, y1 - y0) / 4);
    for (let s = 0; s <= n; s++) {
      const t = n ? s / n : 0;
      obstacles.push([x0 + t * (x1 - x0) - 1.5, y0 + t * (y1 - y0) - 1.5, 3, 3, 0.6]);
    }
  }
  const overlap = (a, b) =>
    Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0])) *
    Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
  // points closer than `near` px share one label (on the group's first point); when some labels
  // still collide wherever they go, the groups grow until none do
  for (let near = 0.6 * fontPx; ; near *= 1.5) {
    const found = attempt(near);
    if (found.clear || near > Math.max(w, h)) return found.labels;
  }

  function attempt(near) {
    const owner = points.map((_, j) => j);
    for (let j = 1; j < points.length; j++) {
      for (let i = 1; i < j; i++) {
        if (owner[i] === i && Math.hypot(at[i][0] - at[j][0], at[i][1] - at[j][1]) < near) {
          owner[j] = i;
          break;
        }
      }
    }
    const texts = points.map((_, j) =>
      owner[j] !== j
        ? ''
        : points
            .filter((_, i) => owner[i] === j)
            .map((o) => o.text)
            .join(', '),
    );
    const placed = [];
    let clear = true;
    const labels = points.map((p, j) => {
      if (!texts[j]) return { text: ' ', position: 'top center' }; // not '': Plotly.react would then drop the node for good
      const best = bestPosition(p, at[j], g.measureText(texts[j]).width + 4, placed);
      if (best.collides) clear = false;
      placed.push(best.box);
      return { text: texts[j], position: best.position };
    });
    return { labels, clear };
  }

  // the least-overlapping of Plotly's positions for one label (tw px wide) at point p (px `xy`)
  function bestPosition(p, [x, y], tw, placed) {
    const th = 1.3 * fontPx;
    const off = p.marker / 1.6 + 1; // Plotly's offset of a label from its marker's centre
    let best = null;
    for (const [n, position] of POSITIONS.entries()) {
      const [v, u] = position.split(' ');
      const left = u === 'center' ? x - tw / 2 : u === 'right' ? x + off : x - off - tw;
      const top = v === 'middle' ? y - th / 2 : v === 'top' ? y - off - th : y + off;
      const box = [left, top, tw, th];
      const wide = [left - 3, top - 2, tw + 6, th + 4]; // labels keep a little apart
      let cost = n * 0.01; // prefer the earlier positions when all else is equal
      let collides = false;
      for (const b of placed) {
        const o = overlap(wide, b);
        cost += 10 * o;
        if (o > 0) collides = true;
      }
      for (const o of obstacles) cost += o[4] * overlap(box, o);
      cost += 20 * (tw * th - overlap(box, [m.l, m.t, w, h])); // inside the plot
      if (!best || cost < best.cost) best = { cost, box, position, collides };
    }
    return best;
  }
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
