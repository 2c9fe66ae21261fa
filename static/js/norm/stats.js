// One group's numbers in words, exactly as the engine computed them (formatted only).

import { fmt } from '../format.js';

const field = (name, label, value) => `${label} <strong data-field="${name}">${fmt(value)}</strong>`;

// HTML for step i of an /api/norm/apply answer.
export function statsHTML(res, i) {
  const s = Object.fromEntries(Object.entries(res.steps).map(([k, v]) => [k, v[i]]));
  const head = `<span class="lhs">${res.labels[i]}</span>: `;
  if (res.kind === 'weight_norm') {
    return (
      head + [field('norm', '‖v‖ =', s.norm), field('g', 'g =', s.g), field('w_norm', 'so ‖w‖ =', s.w_norm)].join(' · ')
    );
  }
  if (res.kind === 'lrn') {
    return `${head}each value is divided using the squares of the same position in <strong data-field="count">${s.count}</strong> channels`;
  }
  const parts = [`m = <strong data-field="count">${s.count}</strong> values`];
  if (res.kind === 'rms') parts.push(field('var', 'mean square', s.var));
  else if (res.kind === 'batch' && !res.params.training) {
    parts.push(field('mean', 'running mean μ =', s.mean), field('var', 'running variance σ² =', s.var));
  } else parts.push(field('mean', 'mean μ =', s.mean), field('var', 'variance σ² =', s.var));
  parts.push(field('eps', 'ε =', s.eps), field('inv_std', `1/√(${res.kind === 'rms' ? 'ms' : 'σ²'} + ε) =`, s.inv_std));
  return head + parts.join(' · ');
}
