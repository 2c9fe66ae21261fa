// Lines between two stacks of channel cards, drawn in an SVG that sits between them:
// from the middle of a source card to the middle of a target card. Which channels are
// linked (and each line's group colour) comes from the engine's answer.

// Okabe-Ito, safe for colour-blind readers; group g gets colour g mod 8
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

// pairs: [[from, to, group], ...]
export function drawLinks(svg, fromCards, toCards, pairs) {
  const box = svg.getBoundingClientRect();
  svg.setAttribute('viewBox', `0 0 ${box.width} ${box.height}`);
  const middle = (el) => {
    const r = el.getBoundingClientRect();
    return r.top + r.height / 2 - box.top;
  };
  const from = fromCards.map(middle),
    to = toCards.map(middle);
  svg.replaceChildren(
    ...pairs.map(([a, b, group]) => {
      const line = document.createElementNS(svg.namespaceURI, 'line'); // the page's inline <svg> namespace
      line.setAttribute('x1', '2');
      line.setAttribute('y1', String(from[a]));
      line.setAttribute('x2', String(box.width - 2));
      line.setAttribute('y2', String(to[b]));
      line.setAttribute('stroke', PALETTE[group % PALETTE.length]);
      line.dataset.from = String(a);
      line.dataset.to = String(b);
      return line;
    }),
  );
}

// The pairs of a (C_to, C_from) connection matrix, coloured by the source's group.
export function matrixPairs(matrix, groupOfSource) {
  const pairs = [];
  matrix.forEach((row, to) =>
    row.forEach((linked, from) => {
      if (linked) pairs.push([from, to, groupOfSource[from]]);
    }),
  );
  return pairs;
}
