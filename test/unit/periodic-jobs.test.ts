import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { createLogger } from '../../src/log.js';
import { PeriodicJobs } from '../../src/worker/periodic-jobs.js';

function collectingLog() {
  const lines: string[] = [];
  return { log: createLogger('debug', (line) => lines.push(line)), lines };
}

describe('the worker loop', () => {
  it('runs each job at start, then again after its pause, never two runs of one job at once', async () => {
    let running = 0;
    let overlapped = false;
    const starts: number[] = [];
    const jobs = new PeriodicJobs([{
      name: 'slow',
      everyMs: 30,
      async run() {
        running += 1;
        overlapped ||= running > 1;
        starts.push(Date.now());
        await sleep(40);
        running -= 1;
      },
    }], createLogger('silent'));
    jobs.start();
    await sleep(10);
    // Asked while it runs: it runs once more right after, not alongside.
    jobs.runSoon('slow');
    jobs.runSoon('slow');
    await sleep(250);
    await jobs.stop();
    expect(overlapped).toBe(false);
    expect(starts.length).toBeGreaterThanOrEqual(3);
    // The second run followed the first at once (runSoon); later ones kept the pause after the previous run's end.
    expect(starts[1]! - starts[0]!).toBeLessThan(40 + 25);
    for (let n = 2; n < starts.length; n += 1) expect(starts[n]! - starts[n - 1]!).toBeGreaterThanOrEqual(40 + 30 - 5);
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
    await sleep(100);
    await jobs.stop();
    expect(runs).toBeGreaterThan(2);
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
    await sleep(10);
    jobs.runSoon('long');
    await jobs.stop();
    expect([finished, runs]).toStrictEqual([true, 1]);
    jobs.runSoon('long');
    await sleep(30);
    expect(runs).toBe(1);
  });
});
