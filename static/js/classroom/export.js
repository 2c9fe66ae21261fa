// Export the current view, rendered here in the browser and nothing uploaded: a PNG or SVG
// of 1920 x 1080 (a projector's 16:9), and the step-through as a WebM video of the same size.
//
// What goes in: the page's title, its step label and equation as text in a band at the top,
// then every visible Plotly figure and canvas (a MapView's cells and numbers) of the main
// area that is at least partly on screen (all of them when none is), laid out as on the
// page and scaled by one factor (at most 4) to fill the sheet below the band, centred both ways.

import { probe } from '../probe.js';

export const SIZE = { width: 1920, height: 1080 };
const BAND = 140; // the title band's height
const PAD = 40;
const MAX_FRAMES = 150; // a longer step-through is sampled evenly, always keeping its last step
const plotVersions = new WeakMap(); // graph div -> redraw count, to reuse a figure's image
const plotImages = new WeakMap(); // graph div -> {key, image}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const frame = () => new Promise((r) => requestAnimationFrame(() => r()));

function visible(el) {
  const r = el.getBoundingClientRect();
  if (r.width < 2 || r.height < 2) return false;
  const style = getComputedStyle(el);
  return style.visibility !== 'hidden' && style.display !== 'none' && Number(style.opacity) > 0;
}

const onScreen = (r) => r.bottom > 0 && r.right > 0 && r.top < window.innerHeight && r.left < window.innerWidth;

// A figure is a MapView (its Plotly frame, then its canvases on top), a Plotly figure, a
// canvas or an image.
const FIGURES = '.mapview, .js-plotly-plot, canvas, img';

function part(el) {
  const kind = el.classList.contains('js-plotly-plot') ? 'plot' : 'picture';
  if (kind === 'plot' && !window.Plotly) return null;
  if (el.tagName === 'IMG' && !(el.complete && el.naturalWidth > 0)) return null;
  if (!visible(el)) return null;
  // a figure's box is its drawing (the div may be wider than the figure it holds)
  const box = ((kind === 'plot' && el.querySelector('svg.main-svg')) || el).getBoundingClientRect();
  return { kind, el, box };
}

// The parts to draw, in paint order. With a `scope` (the step-through's section, for the
// video) all its figures count, on screen or not.
function viewParts(scope = null) {
  const main = scope || document.querySelector('main') || document.body;
  const figures = [...main.querySelectorAll(FIGURES)].filter(
    (el) => el.classList.contains('mapview') || !el.parentElement.closest('.mapview, .js-plotly-plot'),
  );
  const groups = figures
    .filter(visible)
    .map((fig) =>
      (fig.classList.contains('mapview') ? [...fig.querySelectorAll('.js-plotly-plot, canvas')] : [fig])
        .map(part)
        .filter(Boolean),
    )
    .filter((g) => g.length);
  const seen = scope ? groups : groups.filter((g) => g.some((p) => onScreen(p.box)));
  return (seen.length ? seen : groups).flat();
}

// Where the parts go on the 1920 x 1080 sheet: one scale, the union box centred below the band.
function placement(parts) {
  if (!parts.length) return { scale: 1, dx: 0, dy: 0 };
  const left = Math.min(...parts.map((p) => p.box.left)),
    top = Math.min(...parts.map((p) => p.box.top));
  const right = Math.max(...parts.map((p) => p.box.right)),
    bottom = Math.max(...parts.map((p) => p.box.bottom));
  const scale = Math.min((SIZE.width - 2 * PAD) / (right - left), (SIZE.height - BAND - PAD) / (bottom - top), 4);
  const dx = (SIZE.width - (right - left) * scale) / 2 - left * scale;
  const dy = BAND + (SIZE.height - BAND - PAD - (bottom - top) * scale) / 2 - top * scale; // centred below the band
  return { scale, dx, dy };
}

function texts() {
  const pageName = document.title.split(' · ')[0] || 'Layerlab';
  const read = (id) => {
    const el = document.getElementById(id);
    return el && visible(el) ? el.textContent.replace(/\s+/g, ' ').trim() : '';
  };
  return { title: pageName, step: read('step-label'), equation: read('equation') };
}

function watch(gd) {
  if (plotVersions.has(gd)) return;
  plotVersions.set(gd, 0);
  gd.on?.('plotly_afterplot', () => plotVersions.set(gd, plotVersions.get(gd) + 1));
}

async function loadImage(src) {
  const img = new Image();
  img.src = src;
  await img.decode();
  return img;
}

// A figure as a bitmap at `scale`, reused while the figure has not been drawn again.
async function plotBitmap(gd, box, scale) {
  watch(gd);
  const key = `${plotVersions.get(gd)}:${box.width}x${box.height}@${scale}`;
  const cached = plotImages.get(gd);
  if (cached && cached.key === key) return cached.image;
  const url = await window.Plotly.toImage(gd, {
    format: 'png',
    width: Math.round(box.width),
    height: Math.round(box.height),
    scale,
  });
  const image = await loadImage(url);
  plotImages.set(gd, { key, image });
  return image;
}

// A canvas or image redrawn at its size on the sheet (for the SVG); small canvases (one
// pixel per cell) are enlarged without smoothing so the cells stay sharp.
function pictureAt(el, w, h) {
  const c = document.createElement('canvas');
  c.width = Math.max(1, Math.round(w));
  c.height = Math.max(1, Math.round(h));
  const g = c.getContext('2d');
  const natural = el.tagName === 'IMG' ? el.naturalWidth : el.width;
  g.imageSmoothingEnabled = natural >= c.width;
  g.drawImage(el, 0, 0, c.width, c.height);
  return c;
}

function drawBand(g, t) {
  g.fillStyle = '#fff';
  g.fillRect(0, 0, SIZE.width, SIZE.height);
  g.fillStyle = '#000';
  g.textBaseline = 'alphabetic';
  g.font = '700 44px system-ui, sans-serif';
  g.fillText(t.title, PAD, 62, SIZE.width - 2 * PAD);
  g.font = '28px system-ui, sans-serif';
  if (t.step) g.fillText(t.step, PAD, 100, SIZE.width - 2 * PAD);
  g.font = '24px ui-monospace, monospace';
  if (t.equation) g.fillText(t.equation, PAD, 130, SIZE.width - 2 * PAD);
}

// Paint the current view onto a 1920 x 1080 2-D context.
async function paintView(g, scope = null) {
  const parts = viewParts(scope);
  const { scale, dx, dy } = placement(parts);
  const drawn = [];
  for (const p of parts) {
    drawn.push(p.kind === 'plot' ? await plotBitmap(p.el, p.box, scale) : p.el);
  }
  drawBand(g, texts());
  parts.forEach((p, i) => {
    const w = p.box.width * scale;
    // small canvases (one pixel per cell) are enlarged without smoothing so the cells stay sharp
    g.imageSmoothingEnabled = p.kind === 'plot' || (p.el.naturalWidth || p.el.width) >= w;
    g.drawImage(drawn[i], p.box.left * scale + dx, p.box.top * scale + dy, w, p.box.height * scale);
  });
  return parts.length;
}

export async function viewPNG() {
  const c = document.createElement('canvas');
  c.width = SIZE.width;
  c.height = SIZE.height;
  await paintView(c.getContext('2d'));
  return new Promise((resolve) => c.toBlob(resolve, 'image/png'));
}

const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (v) => String(Math.round(v * 100) / 100);

// The same sheet as SVG: figures stay vector (Plotly's own SVG nested at its place),
// canvases go in as PNG <image> data URLs inside a nested <svg> at theirs.
export async function viewSVG() {
  const parts = viewParts();
  const { scale, dx, dy } = placement(parts);
  const t = texts();
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${SIZE.width}" height="${SIZE.height}" viewBox="0 0 ${SIZE.width} ${SIZE.height}">`,
    `<rect width="${SIZE.width}" height="${SIZE.height}" fill="#fff"/>`,
    `<text x="${PAD}" y="62" font-family="system-ui, sans-serif" font-size="44" font-weight="700">${esc(t.title)}</text>`,
  ];
  if (t.step)
    out.push(`<text x="${PAD}" y="100" font-family="system-ui, sans-serif" font-size="28">${esc(t.step)}</text>`);
  if (t.equation) out.push(`<text x="${PAD}" y="130" font-family="monospace" font-size="24">${esc(t.equation)}</text>`);
  const serializer = new XMLSerializer();
  for (const p of parts) {
    const { width: w, height: h } = p.box;
    const at = `x="${num(p.box.left * scale + dx)}" y="${num(p.box.top * scale + dy)}" width="${num(w * scale)}" height="${num(h * scale)}"`;
    if (p.kind === 'plot') {
      const url = await window.Plotly.toImage(p.el, { format: 'svg', width: Math.round(w), height: Math.round(h) });
      const text = url.startsWith('data:image/svg+xml;base64,')
        ? atob(url.slice(url.indexOf(',') + 1))
        : decodeURIComponent(url.slice(url.indexOf(',') + 1));
      const figure = new DOMParser().parseFromString(text, 'image/svg+xml').documentElement;
      const inner = [...figure.childNodes].map((n) => serializer.serializeToString(n)).join('');
      out.push(`<svg ${at} viewBox="0 0 ${Math.round(w)} ${Math.round(h)}" preserveAspectRatio="none">${inner}</svg>`);
    } else {
      const png = pictureAt(p.el, w * scale, h * scale).toDataURL('image/png');
      out.push(
        `<svg ${at} viewBox="0 0 ${num(w * scale)} ${num(h * scale)}"><image width="${num(w * scale)}" height="${num(h * scale)}" preserveAspectRatio="none" href="${png}"/></svg>`,
      );
    }
  }
  out.push('</svg>');
  return new Blob([out.join('\n')], { type: 'image/svg+xml' });
}

export function canRecord() {
  return typeof window.MediaRecorder === 'function' && typeof HTMLCanvasElement.prototype.captureStream === 'function';
}

// Wait until the page has drawn the step: two animation frames with no request in flight.
async function settled() {
  const until = performance.now() + 10_000;
  do {
    await frame();
    await frame();
  } while (probe.busy > 0 && performance.now() < until);
}

// The steps to record: all of them, or MAX_FRAMES evenly spaced ones ending on the last.
export function framesOf(total) {
  if (total <= MAX_FRAMES) return [...Array(total).keys()];
  return [...Array(MAX_FRAMES).keys()].map((k) => Math.round((k * (total - 1)) / (MAX_FRAMES - 1)));
}

// Record the step-through of `stepper` as a WebM at the stepper's speed (1 to 30 steps a
// second): step, wait for the repaint, paint the sheet, hand the frame to the recorder.
// The frames show the figures of the stepper's own section (on screen or not), else the view.
export async function stepVideo(stepper, progress = () => {}) {
  const c = document.createElement('canvas');
  c.width = SIZE.width;
  c.height = SIZE.height;
  const g = c.getContext('2d');
  const stream = c.captureStream(0);
  const track = stream.getVideoTracks()[0];
  const type = ['video/webm;codecs=vp8', 'video/webm;codecs=vp9', 'video/webm'].find((t) =>
    MediaRecorder.isTypeSupported(t),
  );
  const recorder = new MediaRecorder(stream, { mimeType: type, videoBitsPerSecond: 6_000_000 });
  const chunks = [];
  recorder.addEventListener('dataavailable', (e) => {
    if (e.data.size) chunks.push(e.data);
  });
  const stopped = new Promise((r) => recorder.addEventListener('stop', r, { once: true }));
  const back = stepper.index;
  stepper.pause();
  const section = stepper.root.closest('section') || stepper.root.parentElement;
  const scope = section && viewParts(section).length ? section : null;
  const steps = framesOf(stepper.total);
  const interval = 1000 / Math.min(30, Math.max(1, Number(stepper.speed?.value) || 3));
  recorder.start();
  try {
    let due = performance.now();
    for (const [k, i] of steps.entries()) {
      progress(k + 1, steps.length);
      stepper.go(i, true);
      await settled();
      await paintView(g, scope);
      await sleep(Math.max(0, due - performance.now()));
      track.requestFrame();
      due += interval;
    }
    await sleep(Math.max(interval, 400)); // hold the last step before the end
    track.requestFrame();
  } finally {
    recorder.stop();
    await stopped;
    track.stop();
    stepper.go(back, true);
  }
  return new Blob(chunks, { type: 'video/webm' });
}

export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}
