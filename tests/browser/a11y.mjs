// Accessibility checks of every page kind with axe-core, in Chromium.
//
//   node a11y.mjs SITE_DIR...
//
// Each SITE_DIR is a site built by `atelier build` from the example project
// (the participants' and the facilitator's version, for instance). In every
// site after the first only the pages a version changes most are checked
// (landing, module, step, print): the others share their markup.
// Each page (landing, a module, a step, one exercise of each kind, the print
// page, the 404 page, and a client's and the facilitator's module page when
// the site has them) is loaded from file://, in the light and the dark colour
// scheme, and axe-core runs over it. A check fails on any serious or critical
// violation and lists them (rule, impact, the elements concerned). The last
// line is "N passed, M failed"; the exit code is non-zero when anything failed.

import { launch, watchdog } from './harness.mjs';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const VIEWPORT = { width: 1280, height: 900 };
const WATCHDOG_MS = 300_000; // never let a hung browser block `cargo test`
const AXE = createRequire(import.meta.url).resolve('axe-core');
const EXERCISE_KINDS = ['worksheet', 'journey-map', 'empathy-map', 'roi', 'reflection'];
const BLOCKING = new Set(['serious', 'critical']);

/** The first folder under `dir` (sorted) holding an index.html, or null. */
function firstPage(dir) {
  if (!fs.existsSync(dir)) return null;
  const name = fs
    .readdirSync(dir)
    .sort()
    .find((n) => fs.existsSync(path.join(dir, n, 'index.html')));
  return name ? path.join(dir, name) : null;
}

/** The pages to check: [label, file]. Fails when a page kind is missing. */
function pagesOf(siteDir) {
  const pages = [['landing', path.join(siteDir, 'index.html')]];
  const moduleDir = firstPage(path.join(siteDir, 'modules'));
  if (!moduleDir) throw new Error(`${siteDir}/modules has no module page`);
  pages.push(['module', path.join(moduleDir, 'index.html')]);
  const step = fs
    .readdirSync(path.join(siteDir, 'modules'))
    .sort()
    .map((m) => firstPage(path.join(siteDir, 'modules', m)))
    .find(Boolean);
  if (!step) throw new Error('no module of the site has a step page');
  pages.push(['step', path.join(step, 'index.html')]);
  const exercisesDir = path.join(siteDir, 'exercises');
  const byKind = new Map();
  for (const name of fs.readdirSync(exercisesDir).sort()) {
    const file = path.join(exercisesDir, name, 'index.html');
    if (!fs.existsSync(file)) continue;
    const kind = /data-kind="([^"]+)"/.exec(fs.readFileSync(file, 'utf8'))?.[1];
    if (kind && !byKind.has(kind)) byKind.set(kind, file);
  }
  for (const kind of EXERCISE_KINDS) {
    if (!byKind.has(kind)) throw new Error(`the site has no exercise of kind ${kind}`);
    pages.push([`exercise (${kind})`, byKind.get(kind)]);
  }
  pages.push(['exercise list', path.join(exercisesDir, 'index.html')]);
  pages.push(['print', path.join(siteDir, 'print', 'index.html')]);
  pages.push(['404', path.join(siteDir, '404.html')]);
  const client = firstPage(path.join(siteDir, 'clients'));
  if (client) {
    const clientModule = firstPage(path.join(client, 'modules'));
    if (clientModule) pages.push([`client ${path.basename(client)}: module`, path.join(clientModule, 'index.html')]);
  }
  return pages;
}

/** Runs axe over `file`; resolves to a list of blocking violations (text). */
async function violations(browser, file, colorScheme) {
  const context = await browser.newContext({ viewport: VIEWPORT, colorScheme });
  const page = await context.newPage();
  try {
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.addScriptTag({ path: AXE });
    const result = await page.evaluate(() =>
      // eslint-disable-next-line no-undef
      axe.run(document, { resultTypes: ['violations'] }),
    );
    return result.violations
      .filter((v) => BLOCKING.has(v.impact))
      .map((v) => {
        const nodes = v.nodes
          .slice(0, 5)
          .map((n) => `       ${n.target.join(' ')}${n.failureSummary ? `: ${n.failureSummary.split('\n').slice(1, 2).join(' ').trim()}` : ''}`)
          .join('\n');
        const more = v.nodes.length > 5 ? `\n       … and ${v.nodes.length - 5} more` : '';
        return `${v.id} (${v.impact}, ${v.nodes.length} element${v.nodes.length === 1 ? '' : 's'}): ${v.help}\n${nodes}${more}`;
      });
  } finally {
    await context.close();
  }
}

async function main() {
  const siteArgs = process.argv.slice(2);
  if (!siteArgs.length) {
    console.error('usage: node a11y.mjs SITE_DIR...');
    process.exit(2);
  }
  const siteDirs = siteArgs.map((arg) => path.resolve(arg));
  for (const siteDir of siteDirs) {
    if (!fs.existsSync(path.join(siteDir, 'index.html'))) {
      console.error(`${siteDir} has no index.html: build the site first (atelier build --out ${siteDir})`);
      process.exit(2);
    }
  }
  watchdog('a11y.mjs', WATCHDOG_MS);

  const OTHER_SITES = new Set(['landing', 'module', 'step', 'print']);
  const pages = siteDirs.flatMap((siteDir, index) =>
    pagesOf(siteDir)
      .filter(([label]) => index === 0 || OTHER_SITES.has(label))
      .map(([label, file]) => [
        siteDirs.length > 1 ? `${path.basename(siteDir)}: ${label}` : label,
        file,
        siteDir,
      ]),
  );
  const browser = await launch();
  let passed = 0;
  let failed = 0;
  try {
    for (const [label, file, siteDir] of pages) {
      for (const scheme of ['light', 'dark']) {
        const name = `${label}, ${scheme} (${path.relative(siteDir, file)})`;
        let found;
        try {
          found = await violations(browser, file, scheme);
        } catch (err) {
          found = [`axe did not run: ${(err && err.message) || err}`];
        }
        if (found.length) {
          failed++;
          console.log(`FAIL ${name}\n     ${found.join('\n     ')}`);
        } else {
          passed++;
          console.log(`ok   ${name}: no serious or critical violation`);
        }
      }
    }
  } finally {
    await browser.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
