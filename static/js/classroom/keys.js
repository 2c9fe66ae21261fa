// The keys every page answers to, listed in the `?` overlay. Other modules add their own
// section with registerKeys (the lesson player adds the lesson keys).

const sections = new Map(); // title -> [[key, what it does], ...]

export function registerKeys(title, entries) {
  sections.set(title, entries);
}

export function keySections() {
  return [...sections.entries()];
}
