// Number fields that say what is wrong with them. A browser's number input drops the letters a
// student types and reports an empty value for a half-typed one, so a mistake would pass in
// silence; these fields are text fields read here, and each mistake gets a sentence.

// Make an <input> a text field for numbers: every key typed stays visible, so it can be named.
export function numberField(el) {
  el.type = 'text';
  el.inputMode = 'decimal';
  el.autocomplete = 'off';
  el.spellcheck = false;
  return el;
}

// Read a number from a field's text: {value} or {why} ('is empty', 'is not a number: "abc"').
// int: whole numbers only; min/max: the allowed range.
export function parseNumber(text, { int = false, min, max } = {}) {
  const raw = String(text).trim();
  if (raw === '') return { why: 'is empty' };
  const shown = raw.length > 12 ? `${raw.slice(0, 12)}…` : raw;
  // Number() alone would take '0x10', '1e3' and '' quietly: only plain decimals are numbers here
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) return { why: `is not a number: "${shown}"` };
  const value = Number(raw);
  if (!Number.isFinite(value)) return { why: `is too large: "${shown}"` };
  if (int && !Number.isInteger(value)) return { why: `is not a whole number: "${shown}"` };
  if (min !== undefined && value < min) return { why: `must be at least ${min}` };
  if (max !== undefined && value > max) return { why: `must be at most ${max}` };
  return { value };
}

// Mark a field as invalid (class `invalid`, aria-invalid and the message as its title), or
// clear the mark with message ''.
export function markField(el, message) {
  el.classList.toggle('invalid', Boolean(message));
  if (message) {
    el.setAttribute('aria-invalid', 'true');
    el.title = message;
  } else {
    el.removeAttribute('aria-invalid');
    if (el.classList.contains('invalid-titled')) el.removeAttribute('title');
  }
  el.classList.toggle('invalid-titled', Boolean(message));
}

// Check a field against its rule and mark it: the number, or null with the field marked and
// `problems` given the sentence '<name> <why>.'.
export function checkField(el, name, rule, problems) {
  const { value, why } = parseNumber(el.value, rule);
  const message = why ? `${name} ${why}.` : '';
  markField(el, message);
  if (why) {
    problems.push(message);
    return null;
  }
  return value;
}
