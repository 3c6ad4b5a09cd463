// Real-browser checks of the live preview of `atelier serve`.
//
//   node livereload.mjs ORIGIN PROJECT_DIR SCREENSHOT_DIR
//
// ORIGIN is a running `atelier serve` (http://127.0.0.1:PORT) over the fixture
// project in PROJECT_DIR (written by tests/browser.rs). The checks edit that
// project's files and watch open Chromium tabs follow: a content edit reloads
// the tab, a stylesheet edit is swapped in place without a reload, a broken
// file shows the error overlay over the last good page, a fix removes it, and
// two tabs sharing one event stream both update. The checks build on each
// other, so after the first failure the others are reported as not run. Every
// check prints one line; the last line is "N passed, M failed" and the exit
// code is non-zero when anything failed. Any uncaught page error or console
// error fails the check during which it happened.

import { CheckError, assert as expect, launch, watchdog } from './harness.mjs';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

const VIEWPORT = { width: 1280, height: 900 };
const WATCHDOG_MS = 120_000; // never let a hung browser block `cargo test`
const UPDATE_MS = 5_000; // how long an open tab may take to follow an edit

const MODULE_FILE = 'content/modules/01-ouverture.md';
const CLIENT = 'acme'; // the fixture's client (tests/browser.rs)
const MODULE_PAGE = 'modules/ouverture/';
const CSS_FILE = 'static/extra.css';
const EVENTS_PATH = '/__atelier/events';

// What tests/browser.rs wrote first.
const FIRST_SENTENCE = 'Le premier jet de l’ouverture parle des attentes.';
// Written by the checks, in this order.
const EDITED_SENTENCE = 'Une phrase réécrite pendant que l’onglet est ouvert.';
const FIXED_SENTENCE = 'Le fichier est réparé, la page revient.';
const SHARED_SENTENCE = 'Deux onglets, un seul flux d’événements.';
const SHARED_TITLE = 'Ouverture partagée';
const BROKEN_MODULE = '---\ntitle: Ouverture\ndurée: 3\n---\nx';
const NEW_OUTLINE = 'rgb(200, 30, 40)';

// ---------------------------------------------------------------------------
// Small helpers


const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The module file as tests/browser.rs writes it, with another title/sentence.
 * It keeps embedding the `note` exercise, so the page keeps a text input. */
function moduleText(title, sentence) {
  return `---\ntitle: ${title}\nduration: 30 min\n---\n${sentence}\n\n::: exercise note\n:::\n`;
}

/**
 * Evaluates `fn(arg)` in `page` every 100 ms until it returns a truthy value,
 * for at most `timeout` ms; survives the page reloading meanwhile (evaluations
 * that hit a navigation just count as "not yet"). Returns that value, or
 * throws a CheckError built by `describe(lastValue)`, plus the last
 * evaluation error if the last try failed.
 */
async function poll(page, fn, arg, timeout, describe) {
  const deadline = Date.now() + timeout;
  let last;
  let failure = '';
  for (;;) {
    try {
      last = await page.evaluate(fn, arg);
      if (last) return last;
      failure = '';
    } catch (err) {
      failure = ` (last evaluation failed: ${String((err && err.message) || err).split('\n')[0]})`;
    }
    if (Date.now() >= deadline) throw new CheckError((await describe(last)) + failure);
    await sleep(100);
  }
}

/** The visible text of the page, squashed (empty while it is loading).
 * Passed to page.evaluate as is: functions run in the page cannot call it. */
function bodyText() {
  return document.body ? document.body.innerText.replace(/\s+/gu, ' ') : '';
}

/** What the page shows now, in short, for failure messages. */
async function snapshotOf(page) {
  try {
    return await page.evaluate(() => ({
      url: location.pathname,
      marker: window.__marker,
      overlay: document.querySelector('atelier-overlay') !== null,
      prose: (document.querySelector('.prose, main') || document.body || { innerText: '' }).innerText
        .replace(/\s+/gu, ' ')
        .slice(0, 160),
    }));
  } catch (err) {
    return `(page not readable: ${String((err && err.message) || err).split('\n')[0]})`;
  }
}

// ---------------------------------------------------------------------------
// Browser plumbing: one context (so the tabs share localStorage, Web Locks and
// BroadcastChannel, as two tabs of one browser window do), page errors and
// console errors recorded, event streams counted.

class Session {
  constructor(context, origin) {
    this.context = context;
    this.origin = origin;
    this.errors = [];
    this.streams = new Set(); // /__atelier/events requests still open
    context.on('request', (request) => {
      if (new URL(request.url()).pathname === EVENTS_PATH) this.streams.add(request);
    });
    const closed = (request) => this.streams.delete(request);
    context.on('requestfinished', closed);
    context.on('requestfailed', closed);
  }

  /** Opens `relPath` of the served site in a new tab. */
  async open(relPath) {
    const page = await this.context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (err) => this.errors.push(`page error on /${relPath}: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const source = msg.location().url || '';
      // Chromium asks for /favicon.ico on its own; the fixture has no icon.
      if (source === `${this.origin}/favicon.ico`) return;
      this.errors.push(`console error on /${relPath}: ${msg.text()}${source ? ` (${source})` : ''}`);
    });
    const response = await page.goto(`${this.origin}/${relPath}`);
    expect(response && response.ok(), `GET /${relPath} answered ${response && response.status()}`);
    return page;
  }

  /** Errors recorded since the last call. */
  takeErrors() {
    return this.errors.splice(0);
  }
}

// ---------------------------------------------------------------------------
// The checks. `t` holds what they share: { session, project, shots, first, second }.

function writeProjectFile(t, rel, text) {
  fs.writeFileSync(path.join(t.project, rel), text);
}

async function checkOpen(t) {
  const page = await t.session.open(MODULE_PAGE);
  t.first = page;
  const text = await page.evaluate(bodyText);
  expect(text.includes(FIRST_SENTENCE), `/${MODULE_PAGE} does not show "${FIRST_SENTENCE}": ${text.slice(0, 200)}`);
  const injected = await page.locator('script[src="/__atelier/livereload.js"]').count();
  expect(injected === 1, `${injected} live-reload script tags in the page`);
  // The tab is only ready once its event stream is open (it has no other tab
  // to take one from, so it opens its own).
  const deadline = Date.now() + UPDATE_MS;
  while (t.session.streams.size === 0 && Date.now() < deadline) await sleep(50);
  expect(t.session.streams.size === 1, `${t.session.streams.size} event streams open, expected 1`);
  await page.evaluate(() => {
    window.__marker = 42;
  });
  return `/${MODULE_PAGE} shows the first sentence, live script injected, 1 event stream open, window.__marker = 42`;
}

async function checkContentEdit(t) {
  const page = t.first;
  const started = Date.now();
  writeProjectFile(t, MODULE_FILE, moduleText('Ouverture', EDITED_SENTENCE));
  await poll(page, (s) => !!document.body && document.body.innerText.replace(/\s+/gu, ' ').includes(s), EDITED_SENTENCE, UPDATE_MS, async () =>
    `the tab did not show "${EDITED_SENTENCE}" within ${UPDATE_MS / 1000} s: ${JSON.stringify(await snapshotOf(page))}`);
  const elapsed = Date.now() - started;
  const marker = await page.evaluate(() => window.__marker);
  expect(marker === undefined, `window.__marker is ${marker} after the update: the page changed without reloading`);
  // The reloaded page hears its first `hello` before the next edit is made.
  await poll(page, () => document.documentElement.getAttribute('data-atelier-live') === 'connected', null, UPDATE_MS, async () =>
    'the reloaded tab never said it was connected to the event stream');
  return `new sentence shown after ${elapsed} ms, window.__marker gone (the tab reloaded)`;
}

async function checkCssEdit(t) {
  const page = t.first;
  const before = await page.evaluate(() => getComputedStyle(document.body).outlineColor);
  expect(before === 'rgb(1, 2, 3)', `body outline is ${before} before the edit, expected rgb(1, 2, 3) from extra.css`);
  await page.evaluate(() => {
    window.__marker = 43;
  });
  // Text typed by a participant must survive a stylesheet change.
  const input = page.locator('main input[type="text"], main textarea').first();
  let typed = null;
  if ((await input.count()) === 1) {
    typed = 'Tapé avant la retouche du style';
    await input.fill(typed);
  }
  const started = Date.now();
  writeProjectFile(t, CSS_FILE, `body { outline: 0px solid ${NEW_OUTLINE}; }\n`);
  await poll(page, (want) => getComputedStyle(document.body).outlineColor === want, NEW_OUTLINE, UPDATE_MS, async () => {
    const now = await page.evaluate(() => getComputedStyle(document.body).outlineColor).catch(() => '?');
    return `body outline is still ${now} after ${UPDATE_MS / 1000} s`;
  });
  const elapsed = Date.now() - started;
  const marker = await page.evaluate(() => window.__marker);
  expect(marker === 43, `window.__marker is ${marker}, expected 43: the stylesheet change reloaded the page`);
  let kept = 'no input on the page';
  if (typed !== null) {
    const value = await input.inputValue();
    expect(value === typed, `the input holds ${JSON.stringify(value)} after the stylesheet swap, expected ${JSON.stringify(typed)}`);
    kept = 'typed text kept';
  }
  // The old <link> is removed once the new one has loaded: one extra.css left.
  const links = await page.evaluate(() =>
    [...document.querySelectorAll('link[rel="stylesheet"]')].map((l) => l.getAttribute('href')).filter((h) => h.includes('extra.css')));
  expect(links.length === 1, `extra.css is linked ${links.length} times after the swap: ${links.join(', ')}`);
  return `outline ${NEW_OUTLINE} after ${elapsed} ms, window.__marker still 43 (no reload), ${kept}, link now ${links[0]}`;
}

async function checkBrokenFile(t) {
  const page = t.first;
  writeProjectFile(t, MODULE_FILE, BROKEN_MODULE);
  const overlay = await poll(page, (file) => {
    const host = document.querySelector('atelier-overlay');
    if (!host) return null;
    const root = host.shadowRoot || host;
    const text = root.textContent || '';
    if (!text.includes(file)) return null;
    const box = root.querySelector('.box');
    const rect = box ? box.getBoundingClientRect() : null;
    return {
      count: document.querySelectorAll('atelier-overlay').length,
      title: (root.querySelector('h2') || {}).textContent,
      locs: [...root.querySelectorAll('.loc')].map((e) => e.textContent),
      msgs: [...root.querySelectorAll('.msg')].map((e) => e.textContent),
      srcs: [...root.querySelectorAll('.src')].map((e) => e.textContent),
      role: box && box.getAttribute('role'),
      visible: !!rect && rect.width > 0 && rect.height > 0,
    };
  }, MODULE_FILE, UPDATE_MS, async () => `no overlay naming ${MODULE_FILE} within ${UPDATE_MS / 1000} s: ${JSON.stringify(await snapshotOf(page))}`);
  expect(overlay.count === 1, `${overlay.count} overlays in the page`);
  expect(overlay.visible, 'the overlay box has no size on screen');
  expect(overlay.role === 'alertdialog', `the overlay box has role ${overlay.role}`);
  const loc = overlay.locs.find((l) => l.includes(MODULE_FILE));
  expect(/:\d+/.test(loc.slice(loc.indexOf(MODULE_FILE) + MODULE_FILE.length)), `the overlay names "${loc}", without a line number`);
  const i = overlay.locs.indexOf(loc);
  expect((overlay.msgs[i] || '').trim() !== '', `the error at ${loc} has no message`);

  // Still the last good page behind the overlay, not reloaded.
  const behind = await page.evaluate(bodyText);
  expect(behind.includes(EDITED_SENTENCE), `the page behind the overlay no longer shows "${EDITED_SENTENCE}": ${behind.slice(0, 200)}`);
  const marker = await page.evaluate(() => window.__marker);
  expect(marker === 43, `window.__marker is ${marker}, expected 43: the failed build reloaded the page`);
  // And the server keeps serving it too.
  const served = await page.evaluate(async (url) => (await fetch(url, { cache: 'no-store' })).text(), `/${MODULE_PAGE}`);
  expect(served.includes(EDITED_SENTENCE), `GET /${MODULE_PAGE} during the error no longer serves the last good page`);

  await page.screenshot({ path: path.join(t.shots, 'overlay.png'), animations: 'disabled' });
  const src = overlay.srcs[i] ? ` [source: ${JSON.stringify(overlay.srcs[i])}]` : '';
  return `overlay "${overlay.title}": ${loc} — ${overlay.msgs[i]}${src}; last good page behind it; overlay.png`;
}

async function checkFixedFile(t) {
  const page = t.first;
  writeProjectFile(t, MODULE_FILE, moduleText('Ouverture', FIXED_SENTENCE));
  await poll(page, (s) => !document.querySelector('atelier-overlay') && !!document.body && document.body.innerText.replace(/\s+/gu, ' ').includes(s), FIXED_SENTENCE, UPDATE_MS, async () =>
    `overlay still up or "${FIXED_SENTENCE}" not shown within ${UPDATE_MS / 1000} s: ${JSON.stringify(await snapshotOf(page))}`);
  // The reload brings a `hello` without errors: the overlay must not come back.
  await sleep(500);
  const again = await page.evaluate(() => document.querySelector('atelier-overlay') !== null);
  expect(!again, 'the overlay came back after the fixed build');
  return 'overlay gone, fixed sentence shown';
}

async function checkTwoTabs(t) {
  const first = t.first;
  const second = await t.session.open('');
  t.second = second;
  const agenda = await second.evaluate(bodyText);
  expect(agenda.includes('Ouverture') && !agenda.includes(SHARED_TITLE), `the home page does not list the module as "Ouverture": ${agenda.slice(0, 200)}`);
  // A tab that hears no `hello` from a leader within 2 s opens its own stream:
  // give it that time, then there must still be one stream for the two tabs.
  await sleep(2_500);
  const streams = t.session.streams.size;
  expect(streams === 1, `${streams} event streams open for two tabs, expected one shared stream`);
  for (const [page, marker] of [[first, 61], [second, 62]]) await page.evaluate((m) => { window.__marker = m; }, marker);

  const started = Date.now();
  writeProjectFile(t, MODULE_FILE, moduleText(SHARED_TITLE, SHARED_SENTENCE));
  const waits = [
    ['module tab', first, SHARED_SENTENCE],
    ['home tab', second, SHARED_TITLE],
  ].map(async ([name, page, want]) => {
    await poll(page, (s) => !!document.body && document.body.innerText.replace(/\s+/gu, ' ').includes(s), want, UPDATE_MS, async () =>
      `the ${name} did not show "${want}" within ${UPDATE_MS / 1000} s: ${JSON.stringify(await snapshotOf(page))}`);
    const marker = await page.evaluate(() => window.__marker);
    expect(marker === undefined, `window.__marker is ${marker} in the ${name}: it changed without reloading`);
    return `${name} after ${Date.now() - started} ms`;
  });
  const results = await Promise.allSettled(waits);
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) throw failure.reason;
  return `one shared event stream; both reloaded: ${results.map((r) => r.value).join(', ')}`;
}

async function checkStaleTab(t) {
  // A tab whose page comes from an older build (it missed the event while
  // loading) must reload at its first `hello`. Its own browser context, so it
  // opens its own stream instead of sharing the others'.
  const context = await t.session.context.browser().newContext({ viewport: VIEWPORT });
  try {
    const page = await context.newPage();
    let served = 0;
    await page.route(`${t.session.origin}/${MODULE_PAGE}`, async (route) => {
      served++;
      if (served > 1) return route.continue();
      const response = await route.fetch();
      const html = (await response.text()).replace(/data-build="[^"]*"/u, 'data-build="older-build"');
      return route.fulfill({ response, body: html });
    });
    await page.goto(`${t.session.origin}/${MODULE_PAGE}`);
    await poll(page, () => {
      const tag = document.querySelector('script[src="/__atelier/livereload.js"]');
      return !!tag && tag.getAttribute('data-build') !== 'older-build'
        && document.documentElement.getAttribute('data-atelier-live') === 'connected';
    }, null, UPDATE_MS, async () => `the stale tab did not reload (${served} page loads)`);
    expect(served === 2, `the page was loaded ${served} times, expected 2 (stale, then current)`);
    return 'a page from an older build reloaded once at its first hello';
  } finally {
    await context.close();
  }
}

/** The preview toolbar of `page`: its size, the audience switch, the links. */
async function toolbarOf(page) {
  await page.waitForFunction(() => {
    const host = document.querySelector('atelier-toolbar');
    return host && host.shadowRoot && host.shadowRoot.querySelector('button.toggle');
  });
  return page.evaluate(() => {
    const host = document.querySelector('atelier-toolbar');
    const root = host.shadowRoot;
    const bar = root.querySelector('.bar').getBoundingClientRect();
    const swap = root.querySelector('a.swap');
    return {
      width: Math.round(bar.width),
      height: Math.round(bar.height),
      swap: swap ? { text: swap.textContent, href: swap.getAttribute('href') } : null,
      links: [...root.querySelectorAll('li a')].map((a) => a.getAttribute('href')),
    };
  });
}

async function checkClientFacilitator(t) {
  const clientPage = `clients/${CLIENT}/${MODULE_PAGE}`;
  const page = await t.session.open(clientPage);
  const bar = await toolbarOf(page);
  const facilitatorPath = `/_facilitator/clients/${CLIENT}/${MODULE_PAGE}`;
  expect(bar.links.includes(facilitatorPath), `the version list lacks ${facilitatorPath}: ${bar.links.join(', ')}`);
  expect(bar.swap && bar.swap.href === facilitatorPath, `the audience switch leads to ${bar.swap && bar.swap.href}, not ${facilitatorPath}`);
  await Promise.all([page.waitForNavigation(), page.locator('atelier-toolbar a.swap').click()]);
  const banner = await page.locator('.facilitator-banner').count();
  const client = await page.locator('.brand-client').textContent();
  expect(banner === 1 && /Acme/.test(client), `after the switch: ${banner} facilitator banners, client "${client}"`);
  const back = await toolbarOf(page);
  expect(back.swap && back.swap.href === `/${clientPage}`, `the switch back leads to ${back.swap && back.swap.href}`);
  await page.close();
  return `${clientPage} switches to ${facilitatorPath} (facilitator banner, Acme) and back`;
}

async function checkPhoneLayout(t) {
  const page = await t.session.open(`clients/${CLIENT}/${MODULE_PAGE}`);
  await page.setViewportSize({ width: 390, height: 844 });
  const bar = await toolbarOf(page);
  const header = await page.evaluate(() => Math.round(document.querySelector('.site-header').getBoundingClientRect().height));
  await page.screenshot({ path: path.join(t.shots, 'preview-390.png') });
  expect(bar.width <= 80 && bar.height <= 40, `the toolbar takes ${bar.width}×${bar.height} px at 390 px`);
  expect(header <= 100, `the header takes ${header} px at 390 px`);
  await page.close();
  return `at 390×844 the toolbar takes ${bar.width}×${bar.height} px, the header ${header} px`;
}

// ---------------------------------------------------------------------------
// Runner

async function main() {
  const [originArg, projectArg, shotsArg] = process.argv.slice(2);
  if (!originArg || !projectArg || !shotsArg) {
    console.error('usage: node livereload.mjs ORIGIN PROJECT_DIR SCREENSHOT_DIR');
    process.exit(2);
  }
  const origin = originArg.replace(/\/+$/, '');
  const project = path.resolve(projectArg);
  const shots = path.resolve(shotsArg);
  if (!fs.existsSync(path.join(project, MODULE_FILE))) {
    console.error(`${project} has no ${MODULE_FILE}: not the fixture project of tests/browser.rs`);
    process.exit(2);
  }
  await fsp.mkdir(shots, { recursive: true });
  watchdog('livereload.mjs', WATCHDOG_MS);

  const browser = await launch();
  const context = await browser.newContext({ viewport: VIEWPORT });
  const session = new Session(context, origin);
  const t = { session, project, shots, first: null, second: null };

  const checks = [
    ['open the module page', checkOpen],
    ['content edit reloads the tab', checkContentEdit],
    ['stylesheet edit swaps CSS without reloading', checkCssEdit],
    ['broken front matter shows the error overlay', checkBrokenFile],
    ['fixed file removes the overlay', checkFixedFile],
    ['two tabs share one stream and both update', checkTwoTabs],
    ['a tab from an older build reloads', checkStaleTab],
    ["the toolbar switches to the client's facilitator version", checkClientFacilitator],
    ['toolbar and header stay compact on a phone', checkPhoneLayout],
  ];

  let passed = 0;
  let failed = 0;
  let blocked = null;
  try {
    for (const [name, run] of checks) {
      if (blocked) {
        failed++;
        console.log(`FAIL ${name}\n     not run: "${blocked}" failed`);
        continue;
      }
      let detail;
      let error = null;
      try {
        detail = await run(t);
      } catch (err) {
        error = err instanceof CheckError ? err.message : (err && err.stack) || String(err);
      }
      const pageErrors = session.takeErrors();
      if (!error && pageErrors.length) error = pageErrors.join('\n');
      if (error) {
        failed++;
        blocked = name;
        console.log(`FAIL ${name}\n     ${error.replace(/\n/g, '\n     ')}`);
      } else {
        passed++;
        console.log(`ok   ${name}: ${detail}`);
      }
    }
  } finally {
    await context.close().catch(() => {});
    await browser.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
