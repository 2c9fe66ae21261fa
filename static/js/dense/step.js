// One step of the linear trace at a point: neuron j's products written out, its sum, bias and
// total, and what its activation makes of it; the table fills in neuron by neuron.

import { factor, fmt } from '../format.js';

const SUB = '₀₁₂₃₄₅₆₇₈₉';
export const sub = (n) =>
  String(n)
    .split('')
    .map((d) => SUB[Number(d)])
    .join('');

export function stepEquation(res, i) {
  const s = res.steps;
  const j = s.neuron[i],
    n = sub(j + 1);
  const input = res.layer === 0 ? (k) => `x${sub(k + 1)}` : (k) => `h${sub(k + 1)}`;
  const symbolic = s.weights[i].map((_, k) => `w${n}${sub(k + 1)}·${input(k)}`).join(' + ');
  const numbers = s.weights[i].map((w, k) => `${factor(w)}·${factor(s.inputs[i][k])}`).join(' + ');
  const products = s.products[i].map(factor).join(' + ');
  const name = res.activation;
  return (
    `<span class="lhs">z${n}</span> = ${symbolic} + b${n} = ${numbers} + ${factor(s.bias[i])}` +
    ` = ${products} + ${factor(s.bias[i])} = ${fmt(s.sum[i])} + ${factor(s.bias[i])} = <strong>${fmt(s.result[i])}</strong>;` +
    ` ${name}(${fmt(s.result[i])}) = <strong>${fmt(res.activated[j])}</strong>`
  );
}

export function stepTable(table, res, i) {
  const rows = [['neuron', 'w·input', 'b', 'z = w·input + b', `${res.activation}(z)`]];
  res.steps.neuron.forEach((j, k) => {
    const done = k <= i;
    rows.push([
      `n${sub(j + 1)}`,
      done ? fmt(res.steps.sum[k]) : '',
      done ? fmt(res.steps.bias[k]) : '',
      done ? fmt(res.steps.result[k]) : '',
      done ? fmt(res.activated[j]) : '',
    ]);
  });
  table.replaceChildren(
    ...rows.map((cells, r) => {
      const tr = document.createElement('tr');
      if (r === i + 1) tr.className = 'current';
      for (const c of cells) {
        const cell = document.createElement(r === 0 ? 'th' : 'td');
        cell.textContent = c;
        tr.append(cell);
      }
      return tr;
    }),
  );
}

export function stepLabel(res, i) {
  const inputs = res.input.map((v) => fmt(v)).join(', ');
  const from = res.layer === 0 ? `the point (${inputs})` : `layer ${res.layer}'s outputs (${inputs})`;
  return `step ${i + 1} of ${res.num_steps}: neuron ${res.steps.neuron[i] + 1} of layer ${res.layer + 1}, reading ${from}`;
}
