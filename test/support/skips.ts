import fs from 'node:fs';

/**
 * Says why a suite or test cannot run on this machine (no mongod, no Chromium…). The skip reporter
 * (test/support/skip-reporter.js) names the file in TWOFOLD_SKIP_LOG before the test files start and
 * prints every reason at the end of the run, next to the count of skipped tests; without it the
 * reason goes to the console at once.
 */
export function reportSkip(what: string, reason: string): void {
  const line = `${what} SKIPPED: ${reason}`;
  const log = process.env.TWOFOLD_SKIP_LOG;
  if (log) fs.appendFileSync(log, `${line}\n`);
  else console.log(line);
}
