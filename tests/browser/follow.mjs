// Following the presenter live under `atelier serve`, in Chromium.
//
//   node follow.mjs ORIGIN BUILT_SITE [SCREENSHOT_DIR]
//
// ORIGIN is an `atelier serve` on a project with a client `acme`; BUILT_SITE
// is the same project built by `atelier build`. Each "device" is a browser
// context of its own (no BroadcastChannel or storage between them: only the
// server links them). Checks: the follow button shows under serve and not
// from file://; the console's moves move a following participant tab; a
// client's deck does not follow the base deck's presenter; a forged move
// posted from a participant page is refused and moves nobody; a reloaded
// follower keeps following; quick presses leave everyone on the last one; the
// black screen is copied. Screenshots of the deck with the button at
// 1280×720 go to SCREENSHOT_DIR.
// The last line is "N passed, M failed"; the exit code is non-zero on failure.

import { CheckError, Checks, assert, launch, sleep, until, watchdog } from './harness.mjs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const WATCHDOG_MS = 180_000;
const [origin, built, shots] = process.argv.slice(2);
if (!origin || !built) {
  console.error('usage: node follow.mjs ORIGIN BUILT_SITE [SCREENSHOT_DIR]');
  process.exit(2);
}
watchdog('follow.mjs', WATCHDOG_MS);

const checks = new Checks();
const check = (name, run) => checks.check(name, run);
const current = (page) => page.evaluate(() => window.atelierDeck.current());
/** A page in a context of its own, once its live stream said hello. */
async function device(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => document.documentElement.getAttribute('data-atelier-live') === 'connected');
  return page;
}

const browser = await launch();
try {
  const consolePage = await device(browser, `${origin}/_facilitator/present/console/`);
  const follower = await device(browser, `${origin}/present/`);
  const client = await device(browser, `${origin}/clients/acme/present/?follow`);

  await check('the follow button shows under serve, not in the console, and not from file://', async () => {
    assert(await follower.locator('[data-deck=follow]').isVisible(), 'no follow button on the participant deck');
    assert((await consolePage.locator('[data-deck=follow]').count()) === 0, 'a follow button in the console');
    if (shots) await follower.screenshot({ path: path.join(shots, 'deck-follow-button-1280x720.png') });
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    await page.goto(pathToFileURL(path.join(built, 'present', 'index.html')).href + '?follow');
    await page.waitForFunction(() => window.atelierDeck && window.atelierDeck.count > 0);
    await sleep(200);
    assert((await page.locator('[data-deck=follow]').count()) === 0, 'a follow button from file://');
    await context.close();
  });

  await check('the console moves a participant tab that follows', async () => {
    await follower.locator('[data-deck=follow]').click();
    assert((await follower.locator('[data-deck=follow]').getAttribute('aria-pressed')) === 'true', 'button not pressed');
    assert(/[?&]follow\b/.test(follower.url()), `no ?follow in ${follower.url()}`);
    assert((await current(follower)) === 0, 'the click on the button moved the deck');
    await consolePage.keyboard.press('ArrowRight');
    await consolePage.keyboard.press('ArrowRight');
    try {
      await until('the follower on slide 3', async () => (await current(follower)) === 2);
    } catch (err) {
      const where = `console on ${(await current(consolePage)) + 1}, follower on ${(await current(follower)) + 1}`;
      throw new CheckError(`${err.message} (${where})`);
    }
    await consolePage.keyboard.press('ArrowLeft');
    await until('the follower back on slide 2', async () => (await current(follower)) === 1);
    if (shots) await follower.screenshot({ path: path.join(shots, 'deck-following-1280x720.png') });
  });

  await check("a client's deck does not follow the base deck's presenter", async () => {
    await sleep(300);
    assert((await current(client)) === 0, `the client's deck moved to ${await current(client)}`);
  });

  await check('a forged move from a participant page is refused and moves nobody', async () => {
    const statuses = await follower.evaluate(async () => {
      const send = (headers) => fetch('/__atelier/present', {
        method: 'POST',
        headers: Object.assign({ 'Content-Type': 'application/json' }, headers),
        body: JSON.stringify({ deck: '', slide: 5 }),
      }).then((r) => r.status);
      return [await send({}), await send({ 'X-Atelier-Key': '0'.repeat(64) })];
    });
    assert(statuses.join() === '403,403', `forged moves answered ${statuses}`);
    const simple = await follower.evaluate(() => fetch('/__atelier/present', {
      method: 'POST', body: '{"deck":"","slide":5}',
    }).then((r) => r.status));
    assert(simple === 403, `a simple POST answered ${simple}`);
    await sleep(400);
    assert((await current(follower)) === 1, `the follower moved to ${await current(follower)}`);
    assert(!(await follower.content()).includes('data-present-key'), 'the participant page holds the key');
  });

  await check('a reloaded follower keeps following', async () => {
    await consolePage.keyboard.press('ArrowRight');
    await consolePage.keyboard.press('ArrowRight');
    await until('the follower on slide 4', async () => (await current(follower)) === 3);
    await follower.reload();
    await follower.waitForFunction(() => document.documentElement.getAttribute('data-atelier-live') === 'connected');
    await until('the reloaded follower on slide 4', async () => (await current(follower)) === 3);
    assert((await follower.locator('[data-deck=follow]').getAttribute('aria-pressed')) === 'true', 'no longer following');
    await consolePage.keyboard.press('ArrowLeft');
    await until('the reloaded follower on slide 3', async () => (await current(follower)) === 2);
  });

  await check("the client's console moves the client's follower only", async () => {
    const clientConsole = await device(browser, `${origin}/_facilitator/clients/acme/present/console/`);
    await clientConsole.keyboard.press('ArrowRight');
    await until("the client's follower on slide 2", async () => (await current(client)) === 1);
    await sleep(300);
    assert((await current(follower)) === 2, `the base follower moved to ${await current(follower)}`);
  });

  await check('quick presses leave the console and its followers on the last one', async () => {
    const start = await current(consolePage);
    const count = await consolePage.evaluate(() => window.atelierDeck.count);
    const presses = Math.min(4, count - 1 - start);
    assert(presses >= 3, `only ${presses} slides left to press through`);
    // The first move is held up on its way, as on a busy network or
    // server: moves sent side by side would reach the server after it.
    let held = false;
    await consolePage.route('**/__atelier/present', async (route) => {
      if (!held && route.request().method() === 'POST') {
        held = true;
        await sleep(500);
      }
      // The route may have been removed, or the page closed, meanwhile:
      // the request then went on or ended without us.
      await route.continue().catch(() => {});
    });
    try {
      await consolePage.evaluate((n) => {
        for (let i = 0; i < n; i++) document.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight' }));
      }, presses);
      const last = start + presses;
      const where = async () => `console on ${(await current(consolePage)) + 1}, follower on ${(await current(follower)) + 1}`;
      try {
        await until(`the follower on slide ${last + 1}`, async () => (await current(follower)) === last);
      } catch (err) {
        throw new CheckError(`${err.message} (${await where()})`);
      }
      await sleep(800);
      assert((await current(consolePage)) === last && (await current(follower)) === last,
        `after the moves: ${await where()}, not both on ${last + 1}`);
    } finally {
      await consolePage.unroute('**/__atelier/present');
    }
  });

  await check("the presenter's black screen blacks the followers' screens, and back", async () => {
    const blacked = (page) => page.evaluate(() => document.body.classList.contains('is-black'));
    await consolePage.keyboard.press('b');
    await until('the follower blacked', () => blacked(follower));
    if (shots) await follower.screenshot({ path: path.join(shots, 'deck-following-black-1280x720.png') });
    assert(!(await blacked(client)), "the client's deck went black");
    await consolePage.keyboard.press('b');
    await until('the follower shown again', async () => !(await blacked(follower)));
  });
} finally {
  await browser.close();
}
process.exit(checks.report());
