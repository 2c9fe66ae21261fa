// What every visible map drew (read by test_legibility.py): its cell labels' problems and whether
// its colour scale is shown (its own bar, a bar shared by its group, or Plotly's own scale).
() => {
  const shown = (el) => el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden'
    && el.getBoundingClientRect().width > 1;
  // a colour bar shared by a group: in the map's nearest ancestors, outside any single map
  const sharedBar = (el) => {
    for (let a = el.parentElement, k = 0; a && k < 5; a = a.parentElement, k++) {
      const bars = [...a.querySelectorAll('canvas.colorbar')].filter((b) => !b.closest('.mapview') && shown(b));
      if (bars.length) return true;
    }
    return false;
  };
  const out = [];
  for (const v of window.__layerlab.liveMaps()) {
    if (!shown(v.el) || !v.values) continue;
    const name = v.opts.id || v.title || 'map';
    const bar = v.opts.colorbar ? shown(v.bar) && v.bar.width > 0 : sharedBar(v.el);
    const problems = [];
    const { cell, labels } = v.drawn;
    const at = new Map();
    labels.forEach(([x, y, w, h], i) => {
      const r = Math.floor(i / v.cols), c = i % v.cols;
      at.set(`${r},${c}`, [x, y, w, h]);
      if (x < c * cell - 0.5 || x + w > (c + 1) * cell + 0.5 || y < r * cell - 0.5 || y + h > (r + 1) * cell + 0.5)
        problems.push(`label ${i} (${w.toFixed(1)}x${h.toFixed(1)} px) overflows its ${cell}px cell [${r}, ${c}]`);
    });
    const overlap = (a, b) => a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];
    for (const [key, box] of at) {
      const [r, c] = key.split(',').map(Number);
      for (const [dr, dc] of [[0, 1], [1, 0], [1, 1], [1, -1]]) {
        const other = at.get(`${r + dr},${c + dc}`);
        if (other && overlap(box, other)) problems.push(`labels at [${r}, ${c}] and [${r + dr}, ${c + dc}] overlap`);
      }
    }
    out.push({ name, bar, labels: labels.length, problems: problems.slice(0, 5) });
  }
  for (const t of document.querySelectorAll('.net-tile')) {
    if (shown(t)) out.push({ name: `tile ${t.textContent}`, bar: sharedBar(t), labels: 0, problems: [] });
  }
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    if (gd.closest('.mapview') || !shown(gd) || !gd.data) continue;
    gd.data.forEach((t, k) => {
      const lines = t.type === 'contour' && t.contours?.coloring === 'none'; // contour lines, not a map
      if ((t.type !== 'heatmap' && t.type !== 'contour') || lines) return;
      if (t.visible === false) return;
      out.push({ name: `${gd.id || 'plot'} trace ${k}`, bar: t.showscale !== false || sharedBar(gd), labels: 0,
        problems: [] });
    });
  }
  return out;
}
