// What a page tells its reader beside the pictures: a status line (a refused setting, a field
// that cannot be read), a note naming what a hand-written link asked for and did not get, and
// pictures marked stale while they no longer match the settings on screen.

// Show `message` in a status element (role=alert), or clear it with ''.
export function say(el, message) {
  el.textContent = message;
  el.classList.toggle('visible', Boolean(message));
}

// 'size=64 (sizes are 5 … 256)' for one {name, raw, why} the address decoder could not read.
const describe = ({ name, raw, why }) => `${name}=${raw.length > 40 ? `${raw.slice(0, 40)}…` : raw} (${why})`;

// A note at the top of the page naming every parameter of the link that was ignored; the
// rest of the link was applied. Nothing is shown when all of it was read.
export function noteIgnored(ignored) {
  document.getElementById('link-note')?.remove();
  if (!ignored.length) return;
  const note = document.createElement('p');
  note.id = 'link-note';
  note.className = 'note link-note';
  note.setAttribute('role', 'status');
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'small';
  close.textContent = '×';
  close.title = 'Dismiss';
  close.setAttribute('aria-label', 'Dismiss this note');
  close.addEventListener('click', () => note.remove());
  note.append(`Ignored from the link: ${ignored.map(describe).join('; ')}. The rest of it is applied.`, ' ', close);
  const anchor = document.getElementById('status');
  if (anchor) anchor.before(note);
  else (document.querySelector('main') || document.body).prepend(note);
}

// Grey out a picture (its element keeps its place) with a label saying why it is not current;
// `why` '' brings it back.
export function markStale(el, why) {
  if (!el) return;
  el.classList.toggle('stale', Boolean(why));
  if (why) el.dataset.stale = why;
  else delete el.dataset.stale;
}
