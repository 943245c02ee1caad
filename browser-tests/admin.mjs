// Drives the admin UI as a new operator would, in Debian's headless Chromium: sign in, create an
// event, register participants, create a webhook whose receiver is down, watch the delivery
// fail, bring the receiver up, retry, see it delivered; then every main page, with no console
// errors. Screenshots go to SCREENSHOTS. Exit 0 when every step holds.
//
// Then a CRM sync against a fake Action Network (CRM_ENTRY_POINT): add a profile, run it, watch
// its progress, resolve the flag it raised.
//
// Usage: node admin.mjs BASE_URL USERNAME PASSWORD SCREENSHOTS ADMIN_TOKEN CRM_ENTRY_POINT
import http from 'node:http';
import { checkPages, freePort, start } from './lib.mjs';

const [base, username, password, shots, adminToken] = process.argv.slice(2);
// The one page visited to see its 404 logs that status; nothing else may log an error.
const expected404 = (p, m) => p.url().endsWith('/admin/no-such-page') && m.text().includes('status of 404');
const { page, fail, step, shot, until, fresh, finish } = await start(shots, expected404);

// A receiver that is down until we start it, on a port chosen now.
const port = await freePort();
const received = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => { received.push({ headers: req.headers, body }); res.writeHead(200); res.end('ok'); });
});

try {
  step('sign in');
  await page.goto(`${base}/admin`);
  if (!page.url().includes('/admin/login')) fail(`not sent to sign in: ${page.url()}`);
  await checkPages(page, base, ['/admin/login'], fail);
  await shot('01-sign-in');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/admin`);
  await shot('02-overview');

  step('create an event');
  await page.getByRole('link', { name: 'Events' }).click();
  await page.getByText('Create an event').click();
  await page.getByLabel('Title', { exact: true }).fill('Wiki Loves Browsers');
  await page.getByLabel(/^Slug/).fill('Wiki/Loves_Browsers_(2026)');
  await page.getByLabel(/^Time zone/).fill('Europe/Berlin');
  await page.getByLabel('Starts (optional)').fill('2027-04-01T09:30');
  await shot('02b-event-form');
  await page.getByRole('button', { name: 'Create event' }).click();
  await page.waitForURL(/\/admin\/events\/[0-9a-f-]+$/);
  if ((await page.locator('time[datetime="2027-04-01T07:30:00Z"]').count()) !== 1) fail('09:30 in Berlin is kept as 07:30 UTC');
  const shownAt = await page.locator('time[datetime="2027-04-01T07:30:00Z"]').textContent();
  if (!/UTC|GMT/.test(shownAt)) fail(`times name their zone: ${shownAt}`);
  if (!(await page.title()).startsWith('Wiki Loves Browsers')) fail('the page title names the event');
  if (!(await page.getByRole('heading', { name: 'Wiki Loves Browsers' }).isVisible())) fail('the event page shows its title');

  step('register participants');
  for (const [name, visibility] of [['Bob', 'public'], ['Carol', 'private']]) {
    await page.getByLabel('Username', { exact: true }).fill(name);
    await page.getByLabel('Visibility').selectOption(visibility);
    await page.getByRole('button', { name: 'Register' }).click();
    await page.waitForLoadState();
    if (!(await page.getByRole('cell', { name, exact: true }).isVisible())) fail(`${name} is listed`);
  }
  await page.getByLabel('Username', { exact: true }).fill('Nobody_Here');
  await page.getByRole('button', { name: 'Register' }).click();
  await page.waitForLoadState();
  if (!(await page.getByText('No user named Nobody_Here').isVisible())) fail('an unknown name is said on the form');
  if ((await page.getByLabel('Username', { exact: true }).inputValue()) !== 'Nobody_Here') fail('what was typed is kept');
  await shot('03b-event-unknown-user');
  await shot('03-event');

  step('create a webhook against a receiver that is down');
  await page.getByRole('link', { name: 'Webhooks' }).click();
  await shot('04-webhooks-empty');
  await page.getByLabel('Endpoint URL').fill(`http://127.0.0.1:${port}/hook`);
  await page.getByRole('button', { name: 'Create webhook' }).click();
  await page.waitForLoadState();
  await page.waitForURL(/\/admin\/webhooks\/[0-9a-f-]+(\?.*)?$/);
  if (!(await page.getByLabel('Signing secret').inputValue()).startsWith('whsec_')) fail('the secret is shown once');
  await page.reload();
  if ((await page.getByLabel('Signing secret').count()) !== 0) fail('a reload shows the secret no more');
  await page.goBack();
  await page.goForward();
  await page.waitForLoadState();
  if ((await page.getByLabel('Signing secret').count()) !== 0) fail('back and forward show the secret no more');
  await page.getByRole('button', { name: 'Send a test event' }).click();
  await page.waitForURL(/\/admin\/webhooks\/[0-9a-f-]+(\?.*)?$/);
  if (!(await page.getByText('A test event is queued').isVisible())) fail('the test send says what it did');
  await until('a failed attempt', async () => (await page.locator('td.status-pending').count()) > 0
    && (await page.locator('td', { hasText: /^1$/ }).count()) > 0);
  await shot('05-delivery-failing');
  await page.getByRole('link').filter({ has: page.locator('time') }).first().click();
  await page.waitForURL(/\/admin\/deliveries\//);
  if (!(await page.getByText('✗ connection').first().isVisible())) fail('the attempt names the connection failure');
  if (!(await page.getByText('(masked)').first().isVisible())) fail('the request is shown with its signature masked');
  await shot('06-delivery-attempts');

  step('bring the receiver up and retry');
  await new Promise((r) => receiver.listen(port, '127.0.0.1', r));
  await page.getByRole('button', { name: 'Retry now' }).click();
  await page.waitForURL(/\/admin\/webhooks\/[0-9a-f-]+(\?.*)?$/);
  await until('the delivery to succeed', async () => (await page.locator('td.status-delivered').count()) > 0);
  if (received.length !== 1) fail(`the receiver got ${received.length} requests`);
  else if (!received[0].headers['webhook-signature']) fail('the delivery is signed');
  await shot('07-delivered');
  if ((await page.getByRole('button', { name: /^Retry delivery/ }).count()) !== 0) fail('a delivered message offers no retry');

  step('delete the webhook, asked twice');
  await page.getByText('Delete…').click();
  await page.getByLabel(/Delete this webhook/).check();
  await page.getByRole('button', { name: 'Delete webhook' }).click();
  await page.waitForURL(/\/admin\/webhooks\?done=deleted$/);
  if (!(await page.getByText('The webhook is deleted').isVisible())) fail('the list says it is deleted');

  step('notifications arrive live');
  await page.getByRole('link', { name: 'Notifications' }).click();
  await page.getByText('Live: new notifications appear').waitFor();
  const sent = await fetch(`${base}/api/v1/notifications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({ usernames: [username], title: 'Live from the browser test', message: '<p>hello</p>' }),
  });
  if (sent.status !== 201) fail(`sending a notification: ${sent.status}`);
  await page.getByText('Live from the browser test').waitFor({ timeout: 5000 });
  if ((await page.getByText('2 new registrations for Wiki Loves Browsers').count()) === 0
    && (await page.getByText(/registration.* for Wiki Loves Browsers/).count()) === 0) fail('registrations were notified');
  await shot('08-notifications');

  step('settings: a test mail through the one send path');
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Send a test mail' }).click();
  await page.getByText(/Test mail to root@example.org is disabled/).waitFor();
  await shot('14-settings');

  step('CRM sync: a profile, a run with live progress, a flag resolved');
  const crmEntry = process.argv[7];
  for (const given of ['Alex', 'Jo']) {
    const made = await fetch(`${base}/api/v1/people`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ given_name: given, family_name: 'Kim', email: 'sam@example.org' }),
    });
    if (made.status !== 201) fail(`adding ${given}: ${made.status}`);
  }
  await page.getByRole('link', { name: 'CRM sync' }).click();
  await page.getByText('No sync profiles yet').waitFor();
  await page.getByLabel('Name', { exact: true }).fill('Action Network');
  await page.getByLabel('API entry point').fill(crmEntry);
  await page.getByLabel('API key').fill('test-token-0000');
  await page.getByLabel('Requests per second').fill('50');
  await page.getByRole('button', { name: 'Add profile' }).click();
  await page.waitForURL(/\/admin\/crm\/[0-9a-f-]+$/);
  const crmProfile = new URL(page.url()).pathname;
  await page.getByRole('button', { name: 'Start run' }).click();
  await page.waitForURL(/\/admin\/crm\/runs\//);
  const crmRun = new URL(page.url()).pathname;
  // No reload: the progress fragment polls itself (htmx) until the run ends.
  await page.locator('#run-progress strong', { hasText: 'completed' }).waitFor({ timeout: 15000 });
  if ((await page.getByRole('cell', { name: 'created local' }).count()) === 0) fail('the progress names the people created');
  if ((await page.getByRole('cell', { name: 'flagged' }).count()) === 0) fail('the ambiguous match is flagged');
  await page.getByRole('cell', { name: 'created local' }).first().waitFor();
  if (/\d{4}-\d{2}-\d{2}T/.test(await page.locator('#run-progress time').first().textContent())) fail('log times are shown in the viewer\'s zone');
  await shot('16-crm-run');
  await page.getByRole('link', { name: 'Back to the profile' }).click();
  await page.getByText('ambiguous match').first().waitFor();
  await shot('17-crm-flag');
  await page.getByRole('button', { name: /Resolve the ambiguous match flag/ }).click();
  await page.getByText('No open flags').first().waitFor();

  step('users and tokens from the console');
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByText('Create a user').click();
  await page.getByLabel('Username').fill('dana_browser');
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.waitForURL(/\/admin\/users\/Dana_browser$/);
  await page.getByText('Create a token').click();
  await page.getByLabel('Name', { exact: true }).fill('from the browser');
  await page.getByLabel('events:read').check();
  await page.getByRole('button', { name: 'Create token' }).click();
  await page.waitForURL(/\/admin\/users\/Dana_browser$/);
  const token = await page.getByLabel(/New API token/).inputValue();
  const asDana = await fetch(`${base}/api/v1/events`, { headers: { authorization: `Bearer ${token}` } });
  if (asDana.status !== 200) fail(`the new token reads events: ${asDana.status}`);
  await shot('20-user');
  await page.reload();
  if ((await page.getByLabel(/New API token/).count()) !== 0) fail('a reload shows the token no more');

  step('every page fits 1280 and 390 pixels without sideways scrolling');
  const eventPage = (await page.request.get(`${base}/api/v1/events?slug=${encodeURIComponent('Wiki/Loves_Browsers_(2026)')}`, { headers: { authorization: `Bearer ${adminToken}` } }));
  const eventId = (await eventPage.json()).data?.[0]?.id;
  const pages = ['/admin', '/admin/events', `/admin/events/${eventId}`, '/admin/webhooks', '/admin/users', '/admin/users/Dana_browser',
    '/admin/mails', '/admin/webfilters', '/admin/crm', '/admin/settings', '/admin/notifications',
    crmProfile, crmRun, '/admin/no-such-page'];
  await checkPages(page, base, pages, fail);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/admin/events/${eventId}`);
  await shot('21-event-phone');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(`${base}/admin`);
  await shot('22-overview-dark-phone');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${base}/admin/events/${eventId}`);
  await shot('23-event-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  step('sign in with Wikimedia and with OpenID Connect, each in a fresh browser');
  for (const label of ['Sign in with Wikimedia', 'Sign in with the test SSO']) {
    const { context, page: other } = await fresh();
    await other.goto(`${base}/admin`);
    await other.getByRole('link', { name: label }).click();
    await other.waitForURL(`${base}/admin`);
    if (!(await other.getByRole('button', { name: 'Sign out' }).isVisible())) fail(`${label}: signed in`);
    if (label.includes('Wikimedia')) await shot('24-signed-in-with-wikimedia', other);
    await context.close();
  }

  step('every main page renders');
  for (const [name, url] of [['09-overview', '/admin'], ['10-events', '/admin/events'], ['11-webhooks', '/admin/webhooks'], ['12-mail-log', '/admin/mails'], ['15-webfilters', '/admin/webfilters'], ['18-crm', '/admin/crm']]) {
    await page.goto(`${base}${url}`);
    await shot(name);
  }
  const missing = await page.goto(`${base}/admin/no-such-page`);
  if (missing.status() !== 404) fail(`an unknown admin page answers ${missing.status()}`);
  if (!(await page.getByRole('heading', { name: 'Not found' }).isVisible())) fail('an unknown admin page is an HTML page');
  if (!(await page.getByRole('navigation', { name: 'Main' }).isVisible())) fail('an unknown admin page keeps the navigation');
  await shot('19-not-found');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/admin/events`);
  await shot('13-events-phone');
} catch (e) {
  fail(`${e.stack || e}`);
  await shot('99-failure').catch(() => {});
} finally {
  receiver.close();
}
await finish();
