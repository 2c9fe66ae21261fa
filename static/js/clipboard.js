// Copy text for the user; where the page may not use the clipboard, show the text to copy by hand.

export async function copyText(text, statusEl, done) {
  try {
    await navigator.clipboard.writeText(text);
    statusEl.textContent = done;
  } catch {
    statusEl.textContent = text;
  }
}
