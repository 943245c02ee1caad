// What the browser runs share: Debian's headless Chromium, a page whose console errors fail the
// run, screenshots, a free port, and the check that pages fit a width without sideways scroll.
import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

/// A loopback port nothing listens on now.
export const freePort = () => new Promise((resolve) => {
  const probe = http.createServer().listen(0, '127.0.0.1', () => {
    const p = probe.address().port;
    probe.close(() => resolve(p));
  });
});

/// A browser with one 1280 px page. `expectedError(page, message)` names console errors that are
/// part of the run (a 404 visited on purpose); any other fails it.
export async function start(shots, expectedError = () => false) {
  fs.mkdirSync(shots, { recursive: true });
  const problems = [];
  const fail = (msg) => { problems.push(msg); console.log(`FAIL: ${msg}`); };
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const watch = (p) => {
    p.on('console', (m) => { if (m.type() === 'error' && !expectedError(p, m)) fail(`console error on ${p.url()}: ${m.text()}`); });
    p.on('pageerror', (e) => fail(`page error on ${p.url()}: ${e.message}`));
    return p;
  };
  const page = watch(await browser.newPage({ viewport: { width: 1280, height: 900 } }));
  return {
    browser,
    page,
    problems,
    fail,
    step: (name) => console.log(`step: ${name}`),
    shot: async (name, on = page) => on.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true }),
    /// A page in a browser context of its own (no cookies shared), watched the same way.
    fresh: async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      return { context, page: watch(await context.newPage()) };
    },
    /// Reloads until `check` holds; a failure after `timeoutMs`.
    until: async (what, check, timeoutMs = 15000) => {
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        await page.reload();
        if (await check()) return true;
        await page.waitForTimeout(300);
      }
      fail(`timed out waiting for ${what}`);
      return false;
    },
    /// Closes the browser and exits: 0 when every step held.
    finish: async () => {
      await browser.close();
      console.log(problems.length === 0 ? 'browser checks passed' : `${problems.length} browser problems`);
      process.exit(problems.length === 0 ? 0 : 1);
    },
  };
}

/// Fails for each of `urls` that scrolls sideways at 1280 or 390 px, naming what sticks out, or
/// that uses an element id twice (a label would name the wrong field).
export async function checkPages(page, base, urls, fail) {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    for (const url of urls) {
      await page.goto(`${base}${url}`);
      const twice = await page.evaluate(() => {
        const ids = [...document.querySelectorAll('[id]')].map((e) => e.id);
        return [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
      });
      if (twice.length > 0) fail(`${url} uses these ids more than once: ${twice.join(', ')}`);
      const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      if (wide > 0) {
        // The innermost elements that stick out say what to fix.
        const culprits = await page.evaluate(() => [...document.querySelectorAll('body *')]
          .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
          .filter((e) => ![...e.children].some((c) => c.getBoundingClientRect().right > document.documentElement.clientWidth + 1))
          .slice(0, 3).map((e) => `${e.tagName.toLowerCase()}.${e.className}#${e.id}`).join(', '));
        fail(`${url} scrolls sideways by ${wide}px at ${width}px: ${culprits}`);
      }
    }
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}
