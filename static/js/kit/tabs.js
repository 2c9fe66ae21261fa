// A row of tabs: one button per {id, label} (role=tab, data-<key>=id), and marking the chosen
// one. The page says what choosing a tab does; the keys [ ] and 1–9 (classroom/keys.js) press
// these buttons like a user would.

export function fillTabs(row, items, key, onPick) {
  row.setAttribute('role', 'tablist');
  row.replaceChildren(
    ...items.map(({ id, label }) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.setAttribute('role', 'tab');
      b.dataset[key] = id;
      b.textContent = label;
      b.addEventListener('click', () => onPick(id));
      return b;
    }),
  );
}

// Mark the tab whose data-<key> is `id` as selected (none when `id` is null).
export function markTab(row, key, id) {
  for (const tab of row.querySelectorAll('[role=tab]'))
    tab.setAttribute('aria-selected', String(tab.dataset[key] === id));
}
