// Small bindings between form controls and a variant's state. Each edit that parses is
// applied and reported at once (no submit button); one that does not is marked invalid.

export const $ = (id) => document.getElementById(id);

function bind(id, read, apply, changed, event = 'input') {
  const el = $(id);
  el.addEventListener(event, () => {
    const v = read(el);
    el.classList.toggle('invalid', v === undefined);
    if (v !== undefined) {
      apply(v);
      changed();
    }
  });
}

const readInt = (el) => (Number.isInteger(el.valueAsNumber) ? el.valueAsNumber : undefined);
const readNumber = (el) => (el.value.trim() !== '' && Number.isFinite(el.valueAsNumber) ? el.valueAsNumber : undefined);

// "0, 0, 1, 2" -> [0, 0, 1, 2]; commas or spaces between numbers.
export function parseList(text) {
  const parts = text.split(/[\s,;]+/).filter((s) => s !== '');
  const values = parts.map(Number);
  return values.length && values.every(Number.isFinite) ? values : undefined;
}

export const listText = (values) => values.join(', ');

export const bindInt = (id, apply, changed) => bind(id, readInt, apply, changed);
export const bindNumber = (id, apply, changed) => bind(id, readNumber, apply, changed);
export const bindList = (id, apply, changed) => bind(id, (el) => parseList(el.value), apply, changed);
export const bindSelect = (id, apply, changed, parse = String) =>
  bind(id, (el) => parse(el.value), apply, changed, 'change');
export const bindCheck = (id, apply, changed) => bind(id, (el) => el.checked, apply, changed, 'change');

export function bindRadios(name, apply, changed) {
  for (const radio of document.querySelectorAll(`input[name="${name}"]`)) {
    radio.addEventListener('change', () => {
      apply(radio.value);
      changed();
    });
  }
}

// Write a value into a control unless the user is typing in it.
export function setValue(id, value) {
  const el = $(id);
  if (el === document.activeElement) return;
  if (el.type === 'checkbox') el.checked = Boolean(value);
  else el.value = Array.isArray(value) ? listText(value) : String(value);
  el.classList.remove('invalid');
}

export function setRadio(name, value) {
  const radio = document.querySelector(`input[name="${name}"][value="${value}"]`);
  if (radio) radio.checked = true;
}

// Fill a select with options 1..n (or the given values), once.
export function fillSelect(id, values, label = String) {
  const el = $(id);
  if (el.options.length) return;
  el.append(...values.map((v) => new Option(label(v), String(v))));
}

export const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
