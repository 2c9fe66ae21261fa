// The parameter count: the server's formula with the numbers plugged in, a row per layer.

const int = (n) => n.toLocaleString('en-US'); // counts are exact integers: no exponent

export function parseSizes(text) {
  const values = text
    .split(/[\s,;x×-]+/)
    .filter((s) => s !== '')
    .map(Number);
  return values.length >= 2 && values.every((v) => Number.isInteger(v) && v >= 1) ? values : undefined;
}

export function drawCount(res) {
  document.getElementById('count-formula').innerHTML = res.formula;
  document.getElementById('count-total').textContent = int(res.total);
  const rows = [['layer', 'PyTorch', 'weights', 'biases', 'parameters']];
  res.torch.forEach((line, l) => {
    rows.push([String(l + 1), line, int(res.weights[l]), int(res.biases[l]), int(res.parameters[l])]);
  });
  rows.push(['total', `${res.neurons} neurons`, '', '', int(res.total)]);
  document.getElementById('count-table').replaceChildren(
    ...rows.map((cells, r) => {
      const tr = document.createElement('tr');
      if (r === rows.length - 1) tr.className = 'total';
      for (const c of cells) {
        const cell = document.createElement(r === 0 ? 'th' : 'td');
        cell.textContent = c;
        tr.append(cell);
      }
      return tr;
    }),
  );
}
