// What every browser check script here shares: Chromium started as these
// tests need it (Debian's, headless, no network of its own), a watchdog so
// that a hung browser never blocks `cargo test`, and named checks counted
// into the last line tests/browser.rs reads ("N passed, M failed").

import { chromium } from 'playwright-core';

/** Debian's Chromium: no browser is downloaded (.ci/run installs it). */
export const CHROMIUM = '/usr/bin/chromium';

/** Starts headless Chromium; `options` are added to playwright's. */
export function launch(options = {}) {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    ...options,
  });
}

/** Ends the process (exit code 3) if it still runs after `ms`. */
export function watchdog(script, ms) {
  const timer = setTimeout(() => {
    console.error(`${script}: timed out after ${ms / 1000} s`);
    process.exit(3);
  }, ms);
  timer.unref();
  return timer;
}

/** A failed expectation: reported by its message, without a stack. */
export class CheckError extends Error {}

/** Throws a CheckError with `message` unless `condition` holds. */
export function assert(condition, message) {
  if (!condition) throw new CheckError(message);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `test()` resolves truthy, polling every 50 ms, for `ms`. */
export async function until(what, test, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await test()) return;
    if (Date.now() > end) throw new CheckError(`timed out: ${what}`);
    await sleep(50);
  }
}

/** Named checks run one after another, each printed `ok` or `FAIL`. */
export class Checks {
  passed = 0;
  failed = 0;

  /** Runs `run`; prints `detail` it returns after the name when it passes. */
  async check(name, run) {
    try {
      const detail = await run();
      this.passed++;
      console.log(`ok    ${name}${typeof detail === 'string' && detail ? `: ${detail}` : ''}`);
    } catch (err) {
      this.failed++;
      const text = err instanceof CheckError ? err.message : String((err && err.stack) || err);
      console.log(`FAIL  ${name}\n      ${text.split('\n').slice(0, 6).join('\n      ')}`);
    }
  }

  /** Prints the last line and gives the exit code: 1 when a check failed. */
  report() {
    console.log(`${this.passed} passed, ${this.failed} failed`);
    return this.failed ? 1 : 0;
  }
}
