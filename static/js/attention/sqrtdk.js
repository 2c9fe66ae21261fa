// seed 000's argument for √d_k, as measured by the engine (sqrt_dk_demo): two line charts.

import { react } from '../kit/plotly-ready.js';

const line = (x, y, name, colour, dash) => ({
  type: 'scatter',
  mode: 'lines+markers',
  x,
  y,
  name,
  line: { color: colour, dash },
  marker: { size: 5 },
});

export function drawSqrtDk(data) {
  const x = data.d_k;
  const common = {
    width: 440,
    height: 300,
    margin: { l: 50, r: 10, t: 30, b: 40 },
    xaxis: { type: 'log', title: { text: 'd_k' } },
    legend: { orientation: 'h', y: -0.25 },
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
  };
  const config = { displayModeBar: false, responsive: false };
  react(
    'att-sqrtdk-std',
    [line(x, data.unscaled_std, 'std of q·k', '#b2182b'), line(x, data.scaled_std, 'std of q·k / √d_k', '#2166ac')],
    { ...common, title: { text: 'Spread of the scores', font: { size: 13 } }, yaxis: { type: 'log' } },
    config,
  );
  react(
    'att-sqrtdk-softmax',
    [
      line(x, data.unscaled_entropy, 'entropy, unscaled', '#b2182b'),
      line(x, data.scaled_entropy, 'entropy, scaled', '#2166ac'),
      line(x, data.unscaled_max_weight, 'largest weight, unscaled', '#b2182b', 'dot'),
      line(x, data.scaled_max_weight, 'largest weight, scaled', '#2166ac', 'dot'),
    ],
    { ...common, height: 340, title: { text: 'The softmax: entropy (nats) and largest weight', font: { size: 13 } } },
    config,
  );
}
