// The operator's everyday management, in the UI alone (the API only sets the scene): a webhook
// whose endpoint fails, inspected; an event edited in every field, its participants searched
// and made private, its sessions added, rescheduled, given slides that are moved and removed,
// searched and deleted; its timeline; a webfilter added, searched and tried out; a user made an
// administrator, given a one-time password link, signed in with it, and deactivated; at last the
// event deleted. Each destructive step is asked first. Screenshots go to SCREENSHOTS.
//
// Usage: node manage.mjs BASE_URL USERNAME PASSWORD SCREENSHOTS ADMIN_TOKEN
import http from 'node:http';
import { checkPages, freePort, start } from './lib.mjs';

const [base, username, password, shots, adminToken] = process.argv.slice(2);
// A used password link is gone, which the page that visits it again logs.
const usedLink = (p, m) => p.url().includes('/admin/password/') && m.text().includes('status of 404');
const { page, fail, step, shot, fresh, finish } = await start(shots, usedLink);
const api = async (method, url, body) => {
  const r = await fetch(`${base}/api/v1${url}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: body && JSON.stringify(body),
  });
  return { status: r.status, body: r.status === 204 ? null : await r.json() };
};

// The peers: a webhook endpoint that is down (503, with a request id) and a webfilter that
// halts registrations.
const port = await freePort();
const peers = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.url === '/filter') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ exception: { PreventRegistration: { message: 'The event is full', redirect_to: 'https://example.org/waitlist' } } }));
    } else {
      res.writeHead(503, { 'x-request-id': 'r-7', 'content-type': 'text/html' });
      res.end('<h1>down</h1>');
    }
  });
});
await new Promise((r) => peers.listen(port, '127.0.0.1', r));
const section = (title) => page.locator('section.card', { has: page.getByRole('heading', { name: title }) });

try {
  step('sign in');
  await page.goto(`${base}/admin/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/admin`);

  step('a webhook for everything, to an endpoint that fails');
  await page.getByRole('link', { name: 'Webhooks' }).click();
  await page.getByLabel('Endpoint URL').fill(`http://127.0.0.1:${port}/hook`);
  await page.getByLabel(/^Description/).fill('Team dashboard');
  await page.getByRole('button', { name: 'Create webhook' }).click();
  await page.waitForURL(/\/admin\/webhooks\/[0-9a-f-]+(\?.*)?$/);
  const hookPage = page.url().split('?')[0];
  const hookPath = new URL(hookPage).pathname;

  step('the scene: an event with two participants, over the API');
  const made = await api('POST', '/events', { slug: 'Wiki/Manage_(2027)', title: 'Manage me', timezone: 'Europe/Berlin', starts_at: '2027-04-01T07:30:00Z' });
  if (made.status !== 201) throw new Error(`event: ${made.status} ${JSON.stringify(made.body)}`);
  const eventId = made.body.id;
  for (const [name, visibility] of [['Bob', 'public'], ['Carol', 'public']]) {
    const r = await api('PUT', `/events/${eventId}/participants/${name}`, { visibility });
    if (r.status >= 300) fail(`registering ${name}: ${r.status}`);
  }
  const eventPage = `${base}/admin/events/${eventId}`;

  step('edit every field of the event');
  await page.goto(eventPage);
  await page.getByText('Edit event').click();
  await page.locator('#edit-title').fill('Manage me well');
  await page.locator('#edit-timezone').fill('America/New_York');
  await page.locator('#edit-ends').fill('2027-04-01T18:00');
  await page.locator('#edit-description').fill('Two days of wiki work.');
  await page.getByLabel(/Private \(seen only/).check();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Saved.').waitFor();
  if (!(await page.getByRole('heading', { name: 'Manage me well' }).isVisible())) fail('the new title is shown');
  const edited = (await api('GET', `/events/${eventId}`)).body;
  if (edited.ends_at !== '2027-04-01T22:00:00Z') fail(`18:00 in New York is 22:00 UTC: ${edited.ends_at}`);
  if (edited.private !== true || edited.description !== 'Two days of wiki work.' || edited.timezone !== 'America/New_York') fail(`saved: ${JSON.stringify(edited)}`);
  await page.getByText('Edit event').click();
  await page.locator('#edit-slug').fill('Wiki/Manage_(2027)');
  await page.locator('#edit-ends').fill('2027-03-01T18:00');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.waitForLoadState();
  if ((await page.locator('#ends_at-error').count()) === 0) fail('an end before the start is said beside the field');
  if ((await page.locator('#edit-ends').inputValue()) !== '2027-03-01T18:00') fail('what was typed is kept');
  await shot('30-event-edit-refused');

  step('participants: searched, made private');
  await page.goto(eventPage);
  await page.getByLabel('Search participants by name').fill('bo');
  await page.getByLabel('Search participants by name').press('Enter');
  await page.waitForURL(/q=bo/);
  if (!(await page.getByRole('cell', { name: 'Bob', exact: true }).isVisible())) fail('Bob is found');
  if ((await page.getByRole('cell', { name: 'Carol', exact: true }).count()) !== 0) fail('Carol is not');
  await page.getByRole('row', { name: /Bob/ }).getByRole('button', { name: 'Make private' }).click();
  await page.waitForLoadState();
  if ((await api('GET', `/events/${eventId}/participants?q=bob`)).body.data?.[0]?.visibility !== 'private') fail('Bob is private now');

  step('sessions: added, rescheduled, slides added, moved, removed');
  await page.goto(eventPage);
  await page.getByText('Add a session').click();
  await page.locator('#session-title').fill('Opening');
  await page.locator('#session-group').fill('wiki-club');
  await page.locator('#session-starts').fill('2027-04-01T10:00');
  await page.locator('#session-minutes').fill('45');
  await page.getByRole('button', { name: 'Add session' }).click();
  await section(/Opening/).waitFor();
  await section(/Opening/).getByText('Reschedule').click();
  await section(/Opening/).locator('[id^="title-"]').fill('Opening plenary');
  await section(/Opening/).getByLabel(/^Starts/).fill('2027-04-01T11:00');
  await section(/Opening/).getByRole('button', { name: 'Save' }).click();
  await section(/Opening plenary/).waitFor();
  if ((await section(/Opening plenary/).locator('time[datetime="2027-04-01T15:00:00Z"]').count()) !== 1) fail('11:00 in New York is kept as 15:00 UTC');
  for (const deck of ['Deck A', 'Deck B']) {
    await section(/Opening plenary/).locator('summary', { hasText: 'Add slides' }).click();
    await section(/Opening plenary/).locator('[id^="deck-title-"]').fill(deck);
    await section(/Opening plenary/).getByLabel('URL').fill(`https://example.org/${deck.replace(' ', '-')}.pdf`);
    await section(/Opening plenary/).getByRole('button', { name: 'Add slides' }).click();
    await section(/Opening plenary/).getByRole('link', { name: deck }).waitFor();
  }
  await section(/Opening plenary/).getByRole('button', { name: 'Move Deck B up' }).click();
  await page.waitForLoadState();
  const order = await section(/Opening plenary/).locator('ol.decks > li > a').allTextContents();
  if (order.join(',') !== 'Deck B,Deck A') fail(`decks moved: ${order}`);
  const deckA = section(/Opening plenary/).locator('ol.decks > li', { hasText: 'Deck A' });
  await deckA.getByText('Remove…').click();
  await deckA.getByRole('button', { name: 'Remove Deck A' }).click();
  await page.waitForLoadState();
  if ((await section(/Opening plenary/).locator('ol.decks > li').count()) !== 1) fail('Deck A is removed');
  await shot('31-session-with-slides');

  step('sessions searched');
  await page.getByLabel('Search sessions by title').fill('dinner');
  await page.getByLabel('Search sessions by title').press('Enter');
  await page.getByText('No session\'s title contains “dinner”').waitFor();
  await page.getByLabel('Search sessions by title').fill('PLENARY');
  await page.getByLabel('Search sessions by title').press('Enter');
  await section(/Opening plenary/).waitFor();

  step('the timeline: failures first');
  await page.getByRole('link', { name: /^Timeline/ }).click();
  await page.getByRole('heading', { name: 'Timeline of Manage me well' }).waitFor();
  const firstEntry = page.locator('ol.timeline > li').first();
  if (!(await firstEntry.getByText('✗ failed').isVisible())) fail('a failed delivery comes first');
  if ((await page.locator('ol.timeline').getByText(/webhook/i).count()) === 0) fail('webhook deliveries about the event are on its timeline');
  await shot('32-timeline');

  step('the delivery inspector');
  await page.goto(hookPage);
  await page.getByLabel('Event type', { exact: true }).fill('event.updated');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/event_type=event.updated/);
  const rows = page.locator('table tbody tr');
  if ((await rows.count()) === 0) fail('event.updated deliveries are listed');
  if ((await page.locator('tbody td', { hasText: /^event\.(created|deleted)$/ }).count()) !== 0) fail('only event.updated is listed');
  if ((await page.getByText(/answered 503/).count()) === 0) fail('the row says the last error');
  await rows.first().getByRole('link').first().click();
  await page.waitForURL(/\/admin\/deliveries\//);
  const deliveryPath = new URL(page.url()).pathname;
  const request = page.locator('table.headers').first();
  if (!(await request.getByRole('row', { name: /webhook-signature/ }).getByText('(masked)').isVisible())) fail('the signature is masked');
  if (!(await page.getByRole('row', { name: /x-request-id/ }).getByText('r-7').first().isVisible())) fail('the answer\'s headers are shown');
  if ((await page.getByText('<h1>down</h1>').count()) === 0) fail('the answer\'s body is shown as text');
  await shot('33-inspector');

  step('a webfilter: added, searched, tried out');
  await page.getByRole('link', { name: 'Webfilters' }).click();
  await page.getByLabel('Before which action').selectOption('participant.registration.requested');
  await page.getByLabel('URL', { exact: true }).fill(`http://127.0.0.1:${port}/filter`);
  await page.getByLabel(/^Description/).fill('Seat limit');
  await page.getByRole('button', { name: 'Add webfilter' }).click();
  await page.waitForURL(`${base}/admin/webfilters`);
  await page.getByLabel('Search by URL or description').fill('seat');
  await page.getByLabel('Search by URL or description').press('Enter');
  await page.getByText('Seat limit').waitFor();
  await page.getByText('Test…').click();
  await page.getByRole('button', { name: 'Send a test call' }).click();
  await page.getByText('halts the action').waitFor();
  if (!(await page.getByText(/The event is full/).first().isVisible())) fail('the halt message is shown');
  await shot('34-webfilter-test');
  await page.reload();
  if ((await page.getByText('halts the action').count()) !== 0) fail('a reload shows the list and calls the filter no more');

  step('a user: made an administrator, a password link, signed in, deactivated');
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByText('Create a user').click();
  await page.getByLabel('Username').fill('Erin');
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.waitForURL(/\/admin\/users\/Erin$/);
  await page.getByRole('button', { name: 'Make administrator' }).click();
  await page.getByText('They are an administrator now.').waitFor();
  await page.getByRole('button', { name: 'Make a password link' }).click();
  const link = await page.getByLabel(/Password link for Erin/).inputValue();
  if (!link.startsWith(`${base}/admin/password/`)) fail(`a password link: ${link}`);
  const { context, page: erin } = await fresh();
  await checkPages(erin, base, [new URL(link).pathname], fail);
  await erin.goto(link);
  await erin.getByLabel('New password').fill('erin-long-password');
  await erin.getByLabel('The same again').fill('erin-long-password');
  await erin.getByRole('button', { name: 'Set password' }).click();
  await erin.getByRole('heading', { name: 'Password set' }).waitFor();
  const again = await erin.goto(link);
  if (again.status() !== 404 || (await erin.getByLabel('New password').count()) !== 0) fail('the link works once');
  await erin.goto(`${base}/admin/login`);
  await erin.getByLabel('Username').fill('Erin');
  await erin.getByLabel('Password').fill('erin-long-password');
  await erin.getByRole('button', { name: 'Sign in' }).click();
  await erin.waitForURL(`${base}/admin`);
  await page.getByText('Deactivate…').click();
  await page.getByLabel(/tokens, sessions and password stop working/).check();
  await page.getByRole('button', { name: 'Deactivate Erin' }).click();
  await page.getByText(/^Deactivated:/).waitFor();
  await shot('35-user-deactivated');
  await erin.goto(`${base}/admin`);
  if (!erin.url().includes('/admin/login')) fail(`a deactivated user's session ends: ${erin.url()}`);
  await context.close();

  step('new pages fit 1280 and 390 pixels');
  await checkPages(page, base, [`/admin/events/${eventId}`, `/admin/events/${eventId}/timeline`, deliveryPath, hookPath,
    '/admin/users/Erin', '/admin/webfilters?q=seat'], fail);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/admin/events/${eventId}/timeline`);
  await shot('36-timeline-phone');
  await page.setViewportSize({ width: 1280, height: 900 });

  step('the session and then the event deleted, asked first');
  await page.goto(eventPage);
  await section(/Opening plenary/).getByText('Delete…').click();
  await section(/Opening plenary/).getByLabel(/its room and its slides/).check();
  await section(/Opening plenary/).getByRole('button', { name: 'Delete session' }).click();
  await page.getByText('No sessions.').waitFor();
  await page.locator(`details:has(form[action="/admin/events/${eventId}/delete"]) > summary`).click();
  await page.getByLabel(/with its organizers, participants, sessions and rooms/).check();
  await page.getByRole('button', { name: 'Delete event' }).click();
  await page.getByText('The event is deleted').waitFor();
  if ((await api('GET', `/events/${eventId}`)).status !== 404) fail('the event is gone');
} catch (e) {
  fail(`${e.stack || e}`);
  await shot('99-manage-failure').catch(() => {});
} finally {
  peers.close();
}
await finish();
