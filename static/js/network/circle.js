// Seed 000's circle detector: the 5x5 input (click a cell to switch its ink), the five part kernels,
// their 5x2x2 map and the second layer's 5x2x2 kernel, all numbers from /api/network/circle.

import { latest, postJSON } from '../api.js';
import { MapView } from '../mapview.js';
import { drawMatrix } from './maps.js';

const $ = (id) => document.getElementById(id);

function views(parent, prefix, count, target) {
  return Array.from({ length: count }, (_, k) => {
    const box = document.createElement('div');
    parent.append(box);
    return new MapView(box, { id: `${prefix}-${k}`, target, maxCell: 40, numbers: true });
  });
}

export function setupCircle({ shapes, partNames, showError, clearError }) {
  let current = null; // the last answer: its input is what a click edits
  let made = false;
  let input, kernels, parts, detector;

  const run = latest(
    (body) => postJSON('/api/network/circle', body),
    (res) => {
      clearError();
      current = res;
      drawMatrix(input, res.input, `input (1×5×5): ${res.shape}`, false);
      res.kernels.forEach((k, i) => drawMatrix(kernels[i], k, partNames[i], true));
      res.parts.forEach((m, i) => drawMatrix(parts[i], m, partNames[i], true));
      res.detector.forEach((m, i) => drawMatrix(detector[i], m, `× ${partNames[i]}`, true));
      $('circle-formula').innerHTML = res.formula;
      $('circle-verdict').textContent = res.fires
        ? `The detector fires: ${res.output} > 0.`
        : `The detector stays quiet: ${res.output} ≤ 0.`;
      $('circle-verdict').classList.toggle('fires', res.fires);
      for (const b of $('circle-shapes').querySelectorAll('button')) {
        b.setAttribute('aria-pressed', String(b.dataset.shape === res.shape));
      }
    },
    showError,
  );

  function make() {
    const box = document.createElement('div');
    $('circle-input').append(box);
    input = new MapView(box, {
      id: 'circle-input',
      target: 180,
      maxCell: 40,
      numbers: true,
      signed: false,
      onCell: (r, c, kind) => {
        if (kind !== 'click' || !current) return;
        const matrix = current.input.map((row) => row.slice());
        matrix[r][c] = matrix[r][c] > 0.5 ? 0 : 1;
        run({ matrix });
      },
    });
    kernels = views($('circle-kernels'), 'circle-kernel', 5, 96);
    parts = views($('circle-parts'), 'circle-part', 5, 80);
    detector = views($('circle-detector'), 'circle-weight', 5, 80);
    for (const name of shapes) {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.shape = name;
      b.textContent = name;
      b.addEventListener('click', () => run({ shape: name }));
      $('circle-shapes').append(b);
    }
    made = true;
  }

  // Called when the tab opens: build the views once and draw seed 000's circle.
  return () => {
    if (made) return;
    make();
    run({ shape: 'circle' });
  };
}
