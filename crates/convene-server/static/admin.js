// Shows every <time datetime> in the viewer's own time zone and locale.
function localTimes(root) {
  for (const t of root.querySelectorAll('time[datetime]')) {
    const d = new Date(t.getAttribute('datetime'));
    if (!isNaN(d)) { t.textContent = d.toLocaleString(); t.title = t.getAttribute('datetime'); }
  }
}
document.addEventListener('DOMContentLoaded', () => localTimes(document));
document.addEventListener('htmx:afterSwap', (e) => localTimes(e.target));
