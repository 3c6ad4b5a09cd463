// Real-browser checks of the atelier exercise widgets.
//
//   node exercises.mjs SITE_DIR SCREENSHOT_DIR
//
// SITE_DIR is a site built by `atelier build` from the example project. It is
// served over HTTP on 127.0.0.1 (localStorage needs a real origin), Chromium is
// driven with playwright-core, and every check prints one line. The last line
// is "N passed, M failed"; the exit code is non-zero when anything failed.
// Any uncaught page error or console error during a check fails that check.

import { CheckError, assert as expect, launch, watchdog } from './harness.mjs';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

const VIEWPORT = { width: 1280, height: 900 };
const WATCHDOG_MS = 180_000; // never let a hung browser block `cargo test`

const WORKSHEET = 'exercises/lettre-personnalisee/index.html';
const JOURNEY = 'exercises/parcours-client/index.html';
const ROI = 'exercises/retour-des-reseaux/index.html';

// ---------------------------------------------------------------------------
// Small helpers


/** Collapses every kind of white space (including the narrow no-break space
 * that French number formatting uses) into single ASCII spaces. */
function squash(text) {
  return String(text).replace(/\s+/gu, ' ').trim();
}

// ---------------------------------------------------------------------------
// Static file server

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.xml': 'application/xml; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

function contentType(file) {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream';
}

/** True when `target` is `root` itself or lies inside it. */
function isInside(root, target) {
  return target === root || target.startsWith(root + path.sep);
}

/** Maps a request to a file of `root`: { file } or { status, location? }. */
async function resolveRequest(root, rawUrl) {
  let pathname;
  try {
    // Only the path matters; the base is a placeholder to parse relative URLs.
    pathname = decodeURIComponent(new URL(rawUrl, 'http://localhost').pathname);
  } catch {
    return { status: 400 };
  }
  // `new URL` already folds "/../" segments, but encoded ones ("%2e%2e/",
  // "..%2f") only appear after decoding: check the joined path again.
  if (pathname.includes('\0')) return { status: 400 };
  let file = path.join(root, pathname);
  if (!isInside(root, file)) return { status: 403 };

  let stat;
  try {
    // realpath also refuses symbolic links that point outside the site.
    file = await fsp.realpath(file);
    if (!isInside(root, file)) return { status: 403 };
    stat = await fsp.stat(file);
    if (stat.isDirectory()) {
      // Relative links in an index page only work under a trailing slash.
      if (!pathname.endsWith('/')) return { status: 301, location: encodeURI(pathname) + '/' };
      file = path.join(file, 'index.html');
      stat = await fsp.stat(file);
    }
  } catch {
    return { status: 404 };
  }
  return stat.isFile() ? { file, size: stat.size } : { status: 404 };
}

/** Serves `siteDir` on 127.0.0.1 on a free port; resolves to { origin, close }. */
async function startServer(siteDir) {
  const root = await fsp.realpath(siteDir);
  const server = http.createServer(async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const found = await resolveRequest(root, req.url);
    if (!found.file) {
      const headers = { 'Content-Type': 'text/plain; charset=utf-8' };
      if (found.location) headers.Location = found.location;
      res.writeHead(found.status, headers).end(`${found.status}\n`);
      return;
    }
    res.writeHead(200, {
      'Content-Type': contentType(found.file),
      'Content-Length': found.size,
      'Cache-Control': 'no-store',
    });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(found.file).pipe(res);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** A raw GET whose path is sent exactly as given (browsers would normalise it). */
function rawGet(port, rawPath) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: rawPath }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------------------
// Browser plumbing: every check gets its own context (fresh localStorage) and
// records page errors and console errors, which fail the check.

class Session {
  constructor(browser, origin) {
    this.browser = browser;
    this.origin = origin;
    this.errors = [];
    this.contexts = [];
  }

  async context(options = {}) {
    const context = await this.browser.newContext({ viewport: VIEWPORT, acceptDownloads: true, ...options });
    this.contexts.push(context);
    return context;
  }

  /** Opens `relPath` of the site in a new page of `context` (a new one by default). */
  async open(relPath, context) {
    const page = await (context || (await this.context())).newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (err) => this.errors.push(`page error on ${relPath}: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const source = msg.location().url || '';
      // Chromium asks for /favicon.ico on its own; the site declares no icon and
      // is usually hosted below a domain's root anyway, so that miss is not ours.
      if (source === `${this.origin}/favicon.ico`) return;
      this.errors.push(`console error on ${relPath}: ${msg.text()}${source ? ` (${source})` : ''}`);
    });
    const response = await page.goto(`${this.origin}/${relPath}`);
    expect(response && response.ok(), `GET /${relPath} answered ${response && response.status()}`);
    return page;
  }

  async close() {
    for (const context of this.contexts) await context.close();
  }
}

/** Reads the exercise's saved answers from localStorage (null when none). */
async function savedAnswers(page, form) {
  const key = await form.getAttribute('data-storage-key');
  return page.evaluate((k) => JSON.parse(localStorage.getItem(k) || 'null'), key);
}

/** Waits until localStorage holds exactly `expected` for the exercise. */
async function waitForSave(page, form, expected) {
  const key = await form.getAttribute('data-storage-key');
  await page
    .waitForFunction(
      ([k, want]) => {
        const got = JSON.parse(localStorage.getItem(k) || 'null');
        if (got === null || Object.keys(got).length !== Object.keys(want).length) return false;
        return Object.keys(want).every((name) => got[name] === want[name]);
      },
      [key, expected],
      { timeout: 5_000 },
    )
    .catch(async () => {
      throw new CheckError(`answers not saved: localStorage[${key}] = ${JSON.stringify(await savedAnswers(page, form))}, expected ${JSON.stringify(expected)}`);
    });
}

// ---------------------------------------------------------------------------
// Worksheet: discover the fields, fill them, read them back

/** Describes every field of a worksheet form: { kind, name, label, options }. */
async function worksheetFields(form) {
  return form.locator('.field').evaluateAll((fields) =>
    fields.map((field) => {
      const kind = [...field.classList].find((c) => c.startsWith('field-')).slice('field-'.length);
      const control = field.querySelector('[name]');
      return {
        kind,
        name: control.name,
        label: field.getAttribute('data-label'),
        options: [...field.querySelectorAll('input[type="radio"]')].map((r) => ({ value: r.value, id: r.id })),
      };
    }),
  );
}

/** The answer the test gives to a field (text with accents and a newline on purpose). */
function answerFor(field, index) {
  switch (field.kind) {
    case 'text': return `Mme Le Goff, cliente depuis 2019 (champ ${index + 1})`;
    case 'textarea': return `Réponse n°${index + 1} : « un détail qu'elle seule reconnaît ».\nDeuxième ligne ${index + 1}.`;
    case 'number': return '17';
    case 'scale': return field.options[3].value; // "4"
    case 'choice': return field.options[1].value; // the second option
    default: throw new CheckError(`unexpected field kind ${field.kind}`);
  }
}

/** Types or picks `value` in `field`, as a participant would. */
async function fillField(form, field, value) {
  if (field.kind === 'scale' || field.kind === 'choice') {
    const option = field.options.find((o) => o.value === value);
    // The radio itself is visually replaced by its label: click the label.
    await form.locator(`label[for="${option.id}"]`).click();
  } else {
    await form.locator(`[name="${field.name}"]`).fill(value);
  }
}

/** Answers every field of the worksheet; returns { name: answer }. */
async function fillWorksheet(form, fields) {
  const answers = {};
  for (const [i, field] of fields.entries()) {
    answers[field.name] = answerFor(field, i);
    await fillField(form, field, answers[field.name]);
  }
  return answers;
}

/** The current value of `field` in the page ("" when nothing is picked). */
async function valueOf(form, field) {
  if (field.kind === 'scale' || field.kind === 'choice') {
    const checked = form.locator(`input[name="${field.name}"]:checked`);
    return (await checked.count()) ? checked.getAttribute('value') : '';
  }
  return form.locator(`[name="${field.name}"]`).inputValue();
}

/** Asserts every field holds its expected value (`answers[name]`, "" if absent). */
async function expectValues(form, fields, answers, when) {
  for (const field of fields) {
    const got = await valueOf(form, field);
    const want = answers[field.name] ?? '';
    expect(got === want, `${when}: field "${field.name}" (${field.kind}) holds ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  }
}

async function openWorksheet(session, context) {
  const page = await session.open(WORKSHEET, context);
  const form = page.locator('form[data-exercise="lettre-personnalisee"]');
  expect((await form.count()) === 1, 'worksheet form not found');
  const fields = await worksheetFields(form);
  const kinds = new Set(fields.map((f) => f.kind));
  for (const kind of ['text', 'textarea', 'number', 'scale', 'choice']) {
    expect(kinds.has(kind), `the example worksheet has no ${kind} field any more`);
  }
  return { page, form, fields };
}

// ---------------------------------------------------------------------------
// The checks. Each returns a short detail printed after "ok".

async function checkServer(session, server) {
  const ok = await rawGet(server.port, '/index.html');
  expect(ok.status === 200 && ok.type.startsWith('text/html'), `/index.html: ${ok.status} ${ok.type}`);
  for (const [file, type] of [['/static/atelier.css', 'text/css'], ['/static/atelier.js', 'text/javascript'], ['/exercises/', 'text/html']]) {
    const res = await rawGet(server.port, file);
    expect(res.status === 200 && res.type.startsWith(type), `${file}: ${res.status} ${res.type}, expected ${type}`);
  }
  // "/../x" is folded by URL parsing and never leaves the root (404 at worst);
  // encoded slashes only become ".." segments after decoding and must be refused.
  const plain = await rawGet(server.port, '/../../../../etc/passwd');
  expect(plain.status !== 200, `/../../../../etc/passwd was served`);
  for (const escape of ['/..%2f..%2f..%2f..%2fetc%2fpasswd', '/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc/passwd']) {
    const res = await rawGet(server.port, escape);
    expect(res.status === 403, `${escape} answered ${res.status}, expected 403`);
  }
  return 'content types, index.html for folders, paths outside SITE_DIR refused';
}

async function checkWorksheetPersistence(session) {
  const { page, form, fields } = await openWorksheet(session);
  const answers = await fillWorksheet(form, fields);
  await waitForSave(page, form, answers);

  await page.reload();
  await expectValues(form, fields, answers, 'after reload');
  return `${fields.length} fields (${[...new Set(fields.map((f) => f.kind))].join(', ')}) kept after reload`;
}

async function checkWorksheetExport(session) {
  const { page, form, fields } = await openWorksheet(session);
  const answers = await fillWorksheet(form, fields);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    form.locator('[data-action="export"]').click(),
  ]);
  const name = download.suggestedFilename();
  expect(name.endsWith('.md'), `export file is named ${name}, expected a .md file`);
  const markdown = await fsp.readFile(await download.path(), 'utf8');

  const title = await form.getAttribute('data-title');
  expect(markdown.startsWith(`# ${title}\n`), `export does not start with "# ${title}":\n${markdown.slice(0, 200)}`);
  for (const field of fields) {
    expect(markdown.includes(`## ${field.label}\n`), `export lacks the heading "## ${field.label}"`);
    expect(markdown.includes(answers[field.name]), `export lacks the answer ${JSON.stringify(answers[field.name])} of "${field.name}"`);
  }
  return `${name}: title and ${fields.length} answers under their headings (${markdown.length} chars)`;
}

async function checkWorksheetClear(session) {
  const { page, form, fields } = await openWorksheet(session);
  const answers = await fillWorksheet(form, fields);
  await waitForSave(page, form, answers);

  let dialog = null;
  page.once('dialog', (d) => { dialog = { type: d.type(), message: d.message() }; d.accept(); });
  await form.locator('[data-action="clear"]').click();
  expect(dialog && dialog.type === 'confirm', `Clear did not ask for confirmation (dialog: ${JSON.stringify(dialog)})`);
  expect(dialog.message.trim() !== '', 'the confirmation dialog has no message');
  await expectValues(form, fields, {}, 'right after Clear');

  await page.reload();
  await expectValues(form, fields, {}, 'after Clear and reload');
  expect((await savedAnswers(page, form)) === null, 'localStorage still holds answers after Clear');
  return `confirm "${dialog.message}" accepted, ${fields.length} fields empty after reload`;
}

/** Reads the drawn curve: points of the polyline, and the circles' values and boxes. */
async function readCurve(svg) {
  return svg.evaluate((el) => {
    const line = el.querySelector('.curve polyline, .curve path');
    const points = line && line.tagName === 'polyline'
      ? line.getAttribute('points').trim().split(/\s+/).map((p) => p.split(',').map(Number))
      : [];
    const circles = [...el.querySelectorAll('.curve circle')].map((c) => {
      const box = c.getBoundingClientRect();
      return { cx: box.left + box.width / 2, cy: box.top + box.height / 2 };
    });
    const lineBox = line ? line.getBoundingClientRect() : null;
    return {
      tag: line ? line.tagName : null,
      points,
      circles,
      labels: [...el.querySelectorAll('.curve text')].map((t) => t.textContent),
      lineSize: lineBox ? { width: lineBox.width, height: lineBox.height } : null,
    };
  });
}

/** Higher emotion is drawn higher on screen, and each point sits above its stage column. */
async function expectPointsPlaced(form, curve, emotions) {
  const heads = await form.locator('th[data-stage]').evaluateAll((ths) =>
    ths.map((th) => { const b = th.getBoundingClientRect(); return { left: b.left, right: b.right, name: th.dataset.stage }; }));
  emotions.forEach((value, i) => {
    emotions.forEach((other, j) => {
      if (Number(value) > Number(other)) {
        expect(curve.circles[i].cy < curve.circles[j].cy, `stage ${i + 1} (${value}) is drawn lower than stage ${j + 1} (${other})`);
      }
    });
    const { cx } = curve.circles[i];
    expect(cx >= heads[i].left && cx <= heads[i].right, `point ${i + 1} (x=${cx.toFixed(0)}) is not above stage "${heads[i].name}" (${heads[i].left.toFixed(0)}–${heads[i].right.toFixed(0)})`);
  });
}

async function checkJourneyMap(session, screenshotDir) {
  const page = await session.open(JOURNEY);
  const form = page.locator('form[data-exercise="parcours-client"]');
  const svg = form.locator('svg.journey-curve');
  expect((await svg.count()) === 1, 'svg.journey-curve not found');
  const inputs = form.locator('input[data-emotion]');
  const stages = await inputs.count();
  expect(stages >= 2, `only ${stages} emotion inputs`);
  expect((await readCurve(svg)).tag === null, 'a curve is drawn before any emotion is entered');

  // Fill some stages, then all of them: the curve must follow each time.
  const values = [2, 4, 1, 5];
  const emotions = Array.from({ length: stages }, (_, i) => String(values[i % values.length]));
  const steps = [Math.min(2, stages), stages];
  let curve;
  for (const filled of steps) {
    for (let i = 0; i < filled; i++) await inputs.nth(i).fill(emotions[i]);
    curve = await readCurve(svg);
    expect(curve.tag !== null, `no polyline/path drawn with ${filled} stages filled`);
    expect(curve.points.length === filled, `the curve has ${curve.points.length} points for ${filled} filled stages`);
    expect(curve.circles.length === filled, `${curve.circles.length} points drawn for ${filled} filled stages`);
    expect(curve.labels.join(',') === emotions.slice(0, filled).join(','), `point labels ${curve.labels} differ from ${emotions.slice(0, filled)}`);
  }
  expect(curve.lineSize.width > 0 && curve.lineSize.height > 0, `the curve line has no size on screen (${JSON.stringify(curve.lineSize)})`);

  await expectPointsPlaced(form, curve, emotions);

  // The curve is drawn again from the saved answers after a reload.
  await waitForSave(page, form, Object.fromEntries(emotions.map((v, i) => [`s${i + 1}-emotion`, v])));
  await page.reload();
  const reloaded = await readCurve(svg);
  expect(reloaded.points.length === stages, `after reload the curve has ${reloaded.points.length} points, expected ${stages}`);

  await form.screenshot({ path: path.join(screenshotDir, 'journey-map.png'), animations: 'disabled' });
  return `emotions ${emotions.join(', ')} → ${stages}-point polyline above the stages; journey-map.png`;
}

async function checkRoi(session) {
  const page = await session.open(ROI);
  const form = page.locator('form[data-exercise="retour-des-reseaux"]');
  const out = (name) => form.locator(`[data-roi-out="${name}"]`);

  // Expected values are computed here, independently of atelier.js.
  const cases = [
    { hours: '12', hourly: '25', spent: '100', revenue: '1000', state: 'positive' },
    { hours: '10', hourly: '30', spent: '100', revenue: '300', state: 'negative' },
    { hours: '8', hourly: '12.5', spent: '0', revenue: '100', state: 'even' },
  ];
  const seen = [];
  for (const c of cases) {
    for (const name of ['hours', 'hourly', 'spent', 'revenue']) await form.locator(`[data-roi="${name}"]`).fill(c[name]);
    const cost = Number(c.hours) * Number(c.hourly) + Number(c.spent);
    const percent = ((Number(c.revenue) - cost) / cost) * 100;

    const text = squash(await out('roi').textContent());
    // "+150 %", "−25 %" (a real minus sign) or "0 %" in French.
    const shown = Number(text.replace(/[−-]/u, '-').replace(/[^\d,.+-]/gu, '').replace(',', '.'));
    expect(/%/.test(text) && Math.abs(shown - percent) < 0.05, `ROI shows "${text}" for cost ${cost} and revenue ${c.revenue}, expected ${percent} %`);
    const costText = squash(await out('cost').textContent());
    expect(Number(costText.replace(/[^\d,]/gu, '').replace(',', '.')) === cost, `cost shows "${costText}", expected ${cost}`);
    const state = await form.locator('.roi-result').getAttribute('data-state');
    expect(state === c.state, `result state is ${state}, expected ${c.state}`);
    seen.push(`"${text}"`);
  }
  return `ROI ${seen.join(', ')} as expected`;
}

async function checkLanding(session, screenshotDir) {
  const page = await session.open('index.html', await session.context({ viewport: { width: 1280, height: 800 } }));
  await page.evaluate(() => document.fonts.ready);
  expect(await page.locator('h1').first().isVisible(), 'the landing page has no visible <h1>');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow <= 0, `the landing page scrolls sideways by ${overflow}px at 1280px`);
  const file = path.join(screenshotDir, 'landing.png');
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  return `landing.png, 1280×${height}`;
}

/** Every module page of the built site that embeds an exercise: [{ relPath, exercise }]. */
async function modulesWithExercises(siteDir) {
  const pages = [];
  const walk = async (dir) => {
    const entries = await fsp.readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.name.endsWith('.html')) pages.push(full);
    }
  };
  await walk(path.join(siteDir, 'modules'));
  const found = [];
  for (const file of pages) {
    const match = (await fsp.readFile(file, 'utf8')).match(/<form[^>]*\sdata-exercise="([^"]+)"/);
    if (match) found.push({ relPath: path.relative(siteDir, file).split(path.sep).join('/'), exercise: match[1] });
  }
  expect(found.length > 0, 'no module page of the built site embeds an exercise ([data-exercise])');
  return found;
}

/** Types into the first control of the exercise embedded in `relPath`, reloads,
 * and checks the answer is kept, and shared with the exercise's own page. */
async function checkOneEmbedded(session, relPath, exercise) {
  const context = await session.context();
  const page = await session.open(relPath, context);
  const form = page.locator(`form[data-exercise="${exercise}"]`).first();
  // A control a participant types into (every exercise kind has one).
  const control = form.locator('textarea[name], input[type="text"][name], input[type="number"][name]').first();
  expect((await control.count()) === 1, `no typeable control in the exercise embedded in ${relPath}`);
  const name = await control.getAttribute('name');
  const value = (await control.getAttribute('type')) === 'number' ? '4' : `Écrit depuis ${relPath}`;
  await control.fill(value);
  await waitForSave(page, form, { [name]: value });

  await page.reload();
  const kept = await control.inputValue();
  expect(kept === value, `${relPath} (${exercise}): "${name}" holds ${JSON.stringify(kept)} after reload, expected ${JSON.stringify(value)}`);

  // Same storage key as the exercise's own page: the answer follows the participant there.
  const own = await session.open(`exercises/${exercise}/index.html`, context);
  const there = await own.locator(`form[data-exercise="${exercise}"] [name="${name}"]`).inputValue();
  expect(there === value, `exercises/${exercise}/ shows ${JSON.stringify(there)} for "${name}", expected the answer typed on ${relPath}`);
}

async function checkEmbedded(session, siteDir) {
  const found = await modulesWithExercises(siteDir);
  for (const { relPath, exercise } of found) await checkOneEmbedded(session, relPath, exercise);
  return `${found.length} module pages (${found.map((f) => f.exercise).join(', ')}): answer kept after reload and shown on the exercise's own page`;
}

/** One exercise embedded twice on a page (`twice/`, built by browser.rs):
 * every id is unique once the script has run, each copy's labels point at its
 * own controls, and what is typed in one copy shows in the other. */
async function checkTwice(session) {
  const page = await session.open('twice/modules/ouverture/index.html');
  const forms = page.locator('form[data-exercise="note"]');
  expect((await forms.count()) === 2, `${await forms.count()} copies of the exercise, expected 2`);
  const ids = await page.evaluate(() => [...document.querySelectorAll('[id]')].map((e) => e.id));
  const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
  expect(repeated.length === 0, `repeated ids: ${repeated.join(', ')}`);
  const second = forms.nth(1);
  const secondId = await second.getAttribute('id');
  expect(secondId === 'exercise-note-2', `the second copy's id is ${secondId}, expected exercise-note-2`);

  // A label of the second copy checks the second copy's radio, not the first's.
  const label = second.locator('label.scale-option').nth(2);
  await label.click();
  const checkedIn = async (form) => form.locator('input[type="radio"]:checked').count();
  expect((await checkedIn(second)) === 1, 'clicking a label of the second copy checked nothing in it');

  // Typing in the first copy shows in the second at once.
  await forms.nth(0).locator('[name="idee"]').fill('Une idée partagée');
  const mirrored = await second.locator('[name="idee"]').inputValue();
  expect(mirrored === 'Une idée partagée', `the second copy shows ${JSON.stringify(mirrored)}`);
  expect((await checkedIn(forms.nth(0))) === 1, 'the first copy does not show the level picked in the second');
  return `${ids.length} unique ids, labels on their own copy, answers shared`;
}

async function checkWithoutJs(session) {
  const context = await session.context({ javaScriptEnabled: false });
  const page = await session.open(WORKSHEET, context);
  const htmlClass = await page.locator('html').getAttribute('class');
  expect(/\bno-js\b/.test(htmlClass || ''), `<html class="${htmlClass}">: the script seems to have run`);

  const form = page.locator('form[data-exercise="lettre-personnalisee"]');
  const fields = form.locator('.field');
  const count = await fields.count();
  const names = new Set(await form.locator('[name]').evaluateAll((els) => els.map((e) => e.name)));
  expect(count > 0 && count === names.size, `${count} fields for ${names.size} named controls`);
  for (let i = 0; i < count; i++) {
    const field = fields.nth(i);
    const expected = squash(await field.getAttribute('data-label'));
    const label = field.locator(':scope > label, :scope > legend').first();
    expect((await label.count()) === 1, `field "${expected}" has no label or legend`);
    expect(await label.isVisible(), `the label "${expected}" is not visible without JavaScript`);
    const text = squash(await label.textContent());
    expect(text === expected, `label reads "${text}", expected "${expected}"`);
    const control = field.locator('input, textarea').first();
    expect(await control.isVisible(), `the control of "${expected}" is not visible without JavaScript`);
  }
  return `${count} labels visible with JavaScript disabled`;
}

// ---------------------------------------------------------------------------
// Runner

async function main() {
  const [siteArg, shotsArg] = process.argv.slice(2);
  if (!siteArg || !shotsArg) {
    console.error('usage: node exercises.mjs SITE_DIR SCREENSHOT_DIR');
    process.exit(2);
  }
  const siteDir = path.resolve(siteArg);
  const screenshotDir = path.resolve(shotsArg);
  if (!fs.existsSync(path.join(siteDir, 'index.html'))) {
    console.error(`${siteDir} has no index.html: build the site first (atelier build --out ${siteArg})`);
    process.exit(2);
  }
  await fsp.mkdir(screenshotDir, { recursive: true });
  watchdog('exercises.mjs', WATCHDOG_MS);

  const server = await startServer(siteDir);
  const browser = await launch();

  const checks = [
    ['static server', (s) => checkServer(s, server)],
    ['worksheet: answers kept after reload', checkWorksheetPersistence],
    ['worksheet: Markdown export', checkWorksheetExport],
    ['worksheet: Clear empties the fields', checkWorksheetClear],
    ['journey map: emotion curve', (s) => checkJourneyMap(s, screenshotDir)],
    ['roi: result percentage', checkRoi],
    ['landing page screenshot', (s) => checkLanding(s, screenshotDir)],
    ['exercises embedded in module pages', (s) => checkEmbedded(s, siteDir)],
    ['worksheet readable without JavaScript', checkWithoutJs],
    ['one exercise twice on a page', checkTwice],
  ];

  let passed = 0;
  let failed = 0;
  try {
    for (const [name, run] of checks) {
      const session = new Session(browser, server.origin);
      let detail;
      let error = null;
      try {
        detail = await run(session);
      } catch (err) {
        error = err instanceof CheckError ? err.message : (err && err.stack) || String(err);
      }
      await session.close().catch(() => {});
      if (!error && session.errors.length) error = session.errors.join('\n');
      if (error) {
        failed++;
        console.log(`FAIL ${name}\n     ${error.replace(/\n/g, '\n     ')}`);
      } else {
        passed++;
        console.log(`ok   ${name}: ${detail}`);
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
