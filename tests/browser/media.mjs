// Real-browser check that a video served by `atelier serve` can be sought.
//
//   node media.mjs ORIGIN
//
// ORIGIN is a running `atelier serve` (http://127.0.0.1:PORT) over the
// fixture project of tests/browser.rs: `static/lecteur.html` holds a
// `<video>` whose source is `static/media/son.wav`, a minute of sound
// (Chromium's media stack plays it in a <video> element like a film; a
// real video would need an encoder the machine does not have). For each
// version the page opens, the media loads, `currentTime` is set past what
// was first fetched, and `seeked` must fire at that time, the element must
// report the whole file as seekable, and Chromium must have fetched the
// media with `Range` requests answered 206. The last line is
// "N passed, M failed"; the exit code is non-zero when anything failed.

import { Checks, assert as expect, launch, watchdog } from './harness.mjs';

const WATCHDOG_MS = 90_000;
const SEEK_TO = 47.5; // seconds, of a 60 s file
const PAGES = ['/lecteur.html', '/clients/acme/lecteur.html', '/_facilitator/lecteur.html'];


/** Opens `url`, seeks its video and returns what happened on the network. */
async function seekIn(context, url) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  const media = [];
  page.on('response', (response) => {
    if (response.url().endsWith('/media/son.wav')) {
      const headers = response.request().headers();
      media.push({ status: response.status(), range: headers.range || null });
    }
  });
  await page.goto(url);
  const result = await page.evaluate(async (target) => {
    const video = document.querySelector('video');
    if (!video) return { error: 'no <video> on the page' };
    const once = (name) =>
      new Promise((resolve, reject) => {
        video.addEventListener(name, resolve, { once: true });
        video.addEventListener('error', () => reject(new Error(`media error ${video.error?.code}`)), {
          once: true,
        });
      });
    if (video.readyState < 1) await once('loadedmetadata');
    const duration = video.duration;
    const seeked = once('seeked');
    video.currentTime = target;
    await seeked;
    const seekable = video.seekable.length ? video.seekable.end(0) : 0;
    return { duration, currentTime: video.currentTime, seekable };
  }, SEEK_TO);
  await page.close();
  expect(!result.error, result.error);
  expect(errors.length === 0, `page errors: ${errors.join('; ')}`);
  expect(Math.abs(result.duration - 60) < 0.5, `duration ${result.duration}, not 60 s`);
  expect(Math.abs(result.currentTime - SEEK_TO) < 0.25, `currentTime ${result.currentTime} after seeking to ${SEEK_TO}`);
  expect(result.seekable >= 59.5, `seekable only to ${result.seekable} s`);
  const partial = media.filter((m) => m.status === 206 && m.range);
  expect(partial.length > 0, `no 206 answer to a Range request: ${JSON.stringify(media)}`);
  return `seeked to ${result.currentTime.toFixed(2)} s; media requests ${JSON.stringify(media)}`;
}

async function main() {
  const [originArg] = process.argv.slice(2);
  if (!originArg) {
    console.error('usage: node media.mjs ORIGIN');
    process.exit(2);
  }
  const origin = originArg.replace(/\/+$/, '');
  watchdog('media.mjs', WATCHDOG_MS);
  const browser = await launch();
  // A context per page: nothing cached from one version to the next.
  const checks = new Checks();
  try {
    for (const path of PAGES) {
      await checks.check(`a <video> on ${path} can seek`, async () => {
        const context = await browser.newContext();
        try {
          return await seekIn(context, origin + path);
        } finally {
          await context.close().catch(() => {});
        }
      });
    }
  } finally {
    await browser.close();
  }
  process.exitCode = checks.report();
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
