import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { createLogger } from '../../src/log.js';
import { PeriodicJobs } from '../../src/worker/periodic-jobs.js';
import { eventually } from '../support/eventually.js';

function collectingLog() {
  const lines: string[] = [];
  return { log: createLogger('debug', (line) => lines.push(line)), lines };
}

/** Waits until `done` holds, however slow the machine: the tests below wait for events, never for a time. */
async function until(done: () => boolean): Promise<void> {
  await eventually(done);
}

describe('the worker loop', () => {
  it('runs each job at start, and once more right after a run when asked during it, never two runs at once', async () => {
    let running = 0;
    let overlapped = false;
    const ends: Array<() => void> = [];
    const jobs = new PeriodicJobs([{
      name: 'slow',
      // No run comes from the pause during this test: every run is the start's or asked for.
      everyMs: 60_000,
      async run() {
        running += 1;
        overlapped ||= running > 1;
        await new Promise<void>((resolve) => ends.push(resolve));
        running -= 1;
      },
    }], createLogger('silent'));
    jobs.start();
    await until(() => ends.length === 1);
    // Asked twice while it runs: it runs once more after this run, not alongside.
    jobs.runSoon('slow');
    jobs.runSoon('slow');
    ends[0]!();
    await until(() => ends.length === 2);
    ends[1]!();
    await sleep(20);
    const stopped = jobs.stop();
    expect(ends).toHaveLength(2);
    await stopped;
    expect(overlapped).toBe(false);
  });

  it('waits the pause after the end of each run before the next', async () => {
    const starts: number[] = [];
    const ends: number[] = [];
    const jobs = new PeriodicJobs([{
      name: 'paced',
      everyMs: 30,
      async run() {
        starts.push(Date.now());
        await sleep(20);
        ends.push(Date.now());
      },
    }], createLogger('silent'));
    jobs.start();
    await until(() => starts.length >= 3);
    await jobs.stop();
    // A timer never fires early, however late a loaded machine runs it (a few ms for the two clocks' rounding).
    for (let n = 1; n < starts.length; n += 1) expect(starts[n]! - ends[n - 1]!).toBeGreaterThanOrEqual(30 - 3);
  });

  it('logs a failed run and keeps the job\'s turns', async () => {
    const { log, lines } = collectingLog();
    let runs = 0;
    const jobs = new PeriodicJobs([{
      name: 'flaky',
      everyMs: 10,
      async run() {
        runs += 1;
        if (runs === 1) throw new Error('the store is busy');
      },
    }], log);
    jobs.start();
    await until(() => runs > 2);
    await jobs.stop();
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toContainEqual(expect.objectContaining({
      level: 'warn', message: 'the flaky job failed; it runs again at its next turn', error: 'the store is busy',
    }));
  });

  it('stops: waits for the run in progress, and starts none after', async () => {
    let finished = false;
    let runs = 0;
    const jobs = new PeriodicJobs([{
      name: 'long',
      everyMs: 1,
      async run() {
        runs += 1;
        await sleep(50);
        finished = true;
      },
    }], createLogger('silent'));
    jobs.start();
    // Asked again while the start's run is under way, however late a loaded machine began it.
    await until(() => runs === 1);
    jobs.runSoon('long');
    await jobs.stop();
    expect([finished, runs]).toStrictEqual([true, 1]);
    jobs.runSoon('long');
    await sleep(30);
    expect(runs).toBe(1);
  });
});
