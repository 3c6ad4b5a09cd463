// Present mode in Chromium: the deck and the presenter console.
//
//   node present.mjs PARTICIPANT_SITE FACILITATOR_SITE [SCREENSHOT_DIR]
//
// Both sites are the example masterclass built by `atelier build` (and
// `--facilitator`). Checks: the console drives a deck tab and the projector
// window it opens, over HTTP (a static server started here, node's http
// module) and from file://; a reload keeps the slide; `B` blanks the screen;
// the notes are in the console and nowhere in the deck; an exercise's
// countdown runs; axe-core finds no serious or critical violation in the deck
// and the console. Screenshots of the deck (title, content, exercise, break)
// and the console at 1280×720 and 1024×768 go to SCREENSHOT_DIR.
// The last line is "N passed, M failed"; the exit code is non-zero on failure.

import { Checks, assert, launch, until, watchdog } from './harness.mjs';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const AXE = createRequire(import.meta.url).resolve('axe-core');
const BLOCKING = new Set(['serious', 'critical']);
const WATCHDOG_MS = 240_000;
const [site, facilitator, shots] = process.argv.slice(2);
if (!site || !facilitator) {
  console.error('usage: node present.mjs PARTICIPANT_SITE FACILITATOR_SITE [SCREENSHOT_DIR]');
  process.exit(2);
}
watchdog('present.mjs', WATCHDOG_MS);

const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.js': 'text/javascript', '.svg': 'image/svg+xml', '.png': 'image/png' };

/** Serves `dir` over HTTP on a free port; resolves to [server, base URL]. */
function serve(dir) {
  const server = http.createServer((request, response) => {
    const url = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    let file = path.join(dir, url);
    if (!file.startsWith(dir)) { response.writeHead(403).end(); return; }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!fs.existsSync(file)) { response.writeHead(404).end(); return; }
    response.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(response);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve([server, `http://127.0.0.1:${server.address().port}/`])));
}

const checks = new Checks();
const check = (name, run) => checks.check(name, run);
const current = (page) => page.evaluate(() => window.atelierDeck.current());
/** Index (0-based) of the first slide of `kind` in the deck open in `page`. */
const slideOf = (page, selector) =>
  page.evaluate((s) => [...document.querySelectorAll('[data-slide]')].findIndex((e) => e.matches(s)), selector);

async function axe(page) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => BLOCKING.has(v.impact))
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

const browser = await launch();
const [server, base] = await serve(path.resolve(facilitator));
const fileUrl = (dir, rel) => pathToFileURL(path.join(path.resolve(dir), rel)).href;

/** The console drives a deck tab and the projector window it opens. */
async function drives(consoleUrl, deckUrl) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  try {
    const deck = await context.newPage();
    await deck.goto(deckUrl);
    const console_ = await context.newPage();
    await console_.goto(consoleUrl);
    const [projector] = await Promise.all([
      context.waitForEvent('page'),
      console_.click('[data-deck="open"]'),
    ]);
    await projector.waitForLoadState('load');
    for (let k = 0; k < 3; k++) await console_.keyboard.press('ArrowRight');
    assert((await current(console_)) === 3, 'the console is on slide 4');
    await until('the deck tab follows the console', async () => (await current(deck)) === 3);
    await until('the projector follows the console', async () => (await current(projector)) === 3);
    assert(deck.url().endsWith('#slide-4'), `the deck's address keeps the slide: ${deck.url()}`);
    // The other way: a move in the projector window moves the console.
    await projector.keyboard.press('End');
    const last = await projector.evaluate(() => window.atelierDeck.count - 1);
    await until('the console follows the projector', async () => (await current(console_)) === last);
    await console_.keyboard.press('Home');
    await until('Home in the console', async () => (await current(deck)) === 0 && (await current(projector)) === 0);
  } finally {
    await context.close();
  }
}

await check('the console drives a deck tab and the projector over HTTP', () =>
  drives(`${base}present/console/index.html`, `${base}present/index.html`));
await check('the console drives a deck tab and the projector from file://', () =>
  drives(fileUrl(facilitator, 'present/console/index.html'), fileUrl(facilitator, 'present/index.html')));

await check("a client's console does not drive another version's deck", async () => {
  const context = await browser.newContext();
  try {
    const other = await context.newPage();
    await other.goto(fileUrl(facilitator, 'clients/maison-lemoine/present/index.html'));
    const console_ = await context.newPage();
    await console_.goto(fileUrl(facilitator, 'present/console/index.html'));
    await console_.keyboard.press('ArrowRight');
    await console_.keyboard.press('ArrowRight');
    await new Promise((r) => setTimeout(r, 500));
    assert((await current(other)) === 0, 'the client deck did not move');
  } finally {
    await context.close();
  }
});

await check('a reload keeps the slide; keys move it', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(fileUrl(site, 'present/index.html') + '#slide-5');
    assert((await current(page)) === 4, 'opens on #slide-5');
    await page.reload();
    assert((await current(page)) === 4, 'still on slide 5 after a reload');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('PageDown');
    await page.keyboard.press('Space');
    assert((await current(page)) === 7, '→ PageDown Space');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('PageUp');
    assert((await current(page)) === 5, '← PageUp');
    await page.reload();
    assert((await current(page)) === 5 && page.url().endsWith('#slide-6'), 'reload after moving');
    const visible = await page.evaluate(() => [...document.querySelectorAll('[data-slide]')].filter((s) => s.offsetParent !== null).length);
    assert(visible === 1, `one slide visible, not ${visible}`);
  } finally {
    await page.close();
  }
});

await check('B blanks the screen, B again brings it back', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(fileUrl(site, 'present/index.html'));
    assert(await page.isHidden('.deck-black'), 'not black at first');
    await page.keyboard.press('b');
    assert(await page.isVisible('.deck-black'), 'black after B');
    await page.keyboard.press('B');
    assert(await page.isHidden('.deck-black'), 'back after B');
  } finally {
    await page.close();
  }
});

await check('the notes are in the console, and nowhere in the deck', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(fileUrl(facilitator, 'present/console/index.html'));
    const withNotes = await page.evaluate(() => [...document.querySelectorAll('.console-deck [data-slide]')].findIndex((s) => s.querySelector('.slide-notes')));
    assert(withNotes >= 0, 'some slide has notes');
    await page.evaluate((n) => window.atelierDeck.goTo(n), withNotes);
    const notes = (await page.textContent('.console-notes-body')).trim();
    assert(notes.length > 20 && (await page.isVisible('.console-notes-body')), 'the notes are shown');
    const sentence = notes.split('\n').map((l) => l.trim()).find((l) => l.length > 25);
    for (const deckSite of [facilitator, site]) {
      const deck = await browser.newPage();
      await deck.goto(fileUrl(deckSite, 'present/index.html') + `#slide-${withNotes + 1}`);
      const html = await deck.content();
      await deck.close();
      assert(!html.includes(sentence.slice(0, 25)), `the deck of ${deckSite} holds the note "${sentence}"`);
    }
    const shown = await page.evaluate(() => [...document.querySelectorAll('.console-screen .slide-notes')].length);
    assert(shown === 0, 'the previews show no notes');
  } finally {
    await page.close();
  }
});

await check('the countdown of an exercise slide runs, pauses and resets', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(fileUrl(site, 'present/index.html'));
    const n = await slideOf(page, '.slide-exercise');
    assert(n > 0, 'an exercise slide');
    await page.evaluate((k) => window.atelierDeck.goTo(k), n);
    const timer = '.slide.is-current .deck-countdown-time';
    const start = (await page.textContent(timer)).trim();
    await page.click('.slide.is-current [data-countdown="start"]');
    await until('the countdown runs', async () => (await page.textContent(timer)).trim() !== start, 3000);
    await page.click('.slide.is-current [data-countdown="pause"]');
    const paused = await page.textContent(timer);
    await new Promise((r) => setTimeout(r, 1300));
    assert((await page.textContent(timer)) === paused, 'paused');
    await page.click('.slide.is-current [data-countdown="reset"]');
    assert((await page.textContent(timer)).trim() === start, 'reset');
    assert((await current(page)) === n, 'the buttons did not move the deck');
  } finally {
    await page.close();
  }
});

await check('the console shows the module time and the clock against the agenda', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(fileUrl(facilitator, 'present/console/index.html'));
    const n = await page.evaluate(() => [...document.querySelectorAll('.console-deck [data-slide]')].findIndex((s) => s.matches('.slide-module')));
    await page.evaluate((k) => window.atelierDeck.goTo(k), n);
    const pace = (await page.textContent('.console-pace')).trim();
    assert(/^(\d+ min (de retard|d’avance)|À l’heure)$/.test(pace), `pace: ${pace}`);
    assert(/^\d+:\d\d$/.test((await page.textContent('.console-module-planned')).trim()), 'planned duration');
  } finally {
    await page.close();
  }
});

await check('printing gives one page per slide', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  try {
    await page.goto(fileUrl(site, 'present/index.html'));
    await page.evaluate(() => window.dispatchEvent(new Event('beforeprint')));
    const pdf = (await page.pdf({ preferCSSPageSize: true, printBackground: true })).toString('latin1');
    const pages = (pdf.match(/\/Type\s*\/Page[^s]/g) || []).length;
    const slides = await page.evaluate(() => window.atelierDeck.count);
    assert(pages === slides, `${pages} pages for ${slides} slides`);
  } finally {
    await page.close();
  }
});

await check('no serious or critical accessibility violation in the deck and the console', async () => {
  const problems = [];
  for (const [dir, rel, selector] of [
    [site, 'present/index.html', '.slide-cover'],
    [site, 'present/index.html', '.slide-content'],
    [site, 'present/index.html', '.slide-exercise'],
    [site, 'present/index.html', '.slide-break'],
    [facilitator, 'present/console/index.html', '.slide-content'],
  ]) {
    const page = await browser.newPage();
    await page.goto(fileUrl(dir, rel));
    const n = await slideOf(page, selector);
    await page.evaluate((k) => window.atelierDeck.goTo(k), n);
    for (const v of await axe(page)) problems.push(`${rel} ${selector}: ${v}`);
    await page.close();
  }
  assert(problems.length === 0, problems.join('\n      '));
});

if (shots) {
  await check('screenshots', async () => {
    fs.mkdirSync(shots, { recursive: true });
    for (const [w, h] of [[1280, 720], [1024, 768]]) {
      const page = await browser.newPage({ viewport: { width: w, height: h } });
      await page.goto(fileUrl(site, 'present/index.html'));
      for (const kind of ['cover', 'module', 'content', 'exercise', 'break', 'agenda']) {
        await page.evaluate((k) => window.atelierDeck.goTo(k), await slideOf(page, `.slide-${kind}`));
        await page.screenshot({ path: path.join(shots, `deck-${kind}-${w}x${h}.png`) });
      }
      await page.goto(fileUrl(facilitator, 'present/console/index.html'));
      const n = await page.evaluate(() => [...document.querySelectorAll('.console-deck [data-slide]')].findIndex((s) => s.querySelector('.slide-notes')));
      await page.evaluate((k) => window.atelierDeck.goTo(k), n);
      await page.screenshot({ path: path.join(shots, `console-${w}x${h}.png`) });
      await page.close();
    }
  });
}

await browser.close();
server.close();
process.exit(checks.report());
