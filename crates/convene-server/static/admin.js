// Shows every <time datetime> in the viewer's own time zone and locale, the zone named.
function localTimes(root) {
  const shown = { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' };
  for (const t of root.querySelectorAll('time[datetime]')) {
    const d = new Date(t.getAttribute('datetime'));
    if (isNaN(d)) continue;
    t.textContent = d.toLocaleString(undefined, shown);
    t.title = t.getAttribute('datetime');
  }
}
document.addEventListener('DOMContentLoaded', () => localTimes(document));
// After an outerHTML swap the event's target is the element replaced, so look at the page.
document.addEventListener('htmx:afterSettle', () => localTimes(document));

// The notifications page follows the live stream: new ones appear at the top.
document.addEventListener('DOMContentLoaded', () => {
  const list = document.getElementById('live-notifications');
  if (!list || !window.EventSource) return;
  const status = document.getElementById('live-status');
  const source = new EventSource('/admin/notifications/stream');
  source.addEventListener('ready', () => { status.textContent = 'Live: new notifications appear as they arrive.'; });
  source.addEventListener('notification', (e) => {
    const n = JSON.parse(e.data).attributes;
    const item = document.createElement('li');
    item.className = 'unread';
    const title = document.createElement('strong');
    title.textContent = n.title;
    const when = document.createElement('time');
    when.setAttribute('datetime', n['received-at']);
    const body = document.createElement('div');
    body.textContent = n.message.replace(/<[^>]*>/g, '');
    item.append(title, ' ', when, body);
    list.prepend(item);
    localTimes(item);
    const empty = document.getElementById('no-notes');
    if (empty) empty.remove();
  });
  source.onerror = () => { status.textContent = 'Reconnecting…'; };
});

// A table wider than the screen says so above it (the region is also labelled for readers).
function scrollHints() {
  for (const region of document.querySelectorAll('.scroll')) {
    const hint = region.previousElementSibling;
    const has = hint && hint.classList.contains('scroll-hint');
    const wide = region.scrollWidth > region.clientWidth + 1;
    if (wide && !has) {
      const p = document.createElement('p');
      p.className = 'hint scroll-hint';
      p.textContent = 'This table scrolls sideways →';
      region.before(p);
    } else if (!wide && has) {
      hint.remove();
    }
  }
}
document.addEventListener('DOMContentLoaded', scrollHints);
window.addEventListener('resize', scrollHints);
// A run's progress is swapped in every second: its tables get their hints again.
document.addEventListener('htmx:afterSettle', scrollHints);
