import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Ends the run with the reason for every skipped suite and a plain count in which a skipped test is
 * never a passed one. Test files run in worker processes, which inherit TWOFOLD_SKIP_LOG from this
 * process: it is set here, before Jest starts them.
 * @implements {import('@jest/reporters').Reporter}
 */
export default class SkipReporter {
  #log = path.join(os.tmpdir(), `twofold-skips-${process.pid}.txt`);

  constructor() {
    process.env.TWOFOLD_SKIP_LOG = this.#log;
  }

  onRunStart() {
    fs.rmSync(this.#log, { force: true });
  }

  /** @param {unknown} _contexts @param {import('@jest/reporters').AggregatedResult} results */
  onRunComplete(_contexts, results) {
    const reasons = fs.existsSync(this.#log) ? fs.readFileSync(this.#log, 'utf8').split('\n').filter(Boolean) : [];
    fs.rmSync(this.#log, { force: true });
    const lines = [...new Set(reasons)];
    if (results.numRuntimeErrorTestSuites > 0) lines.push(`${results.numRuntimeErrorTestSuites} test files could not run (see above).`);
    const skipped = results.numPendingTests + results.numTodoTests;
    lines.push(`Tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`);
    process.stdout.write(`\n${lines.join('\n')}\n`);
  }

  getLastError() {
    return undefined;
  }
}
