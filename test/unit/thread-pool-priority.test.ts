import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';

const run = promisify(execFile);

interface Report {
  readonly pid: number;
  readonly lowered: number[];
  /** Every thread of the process and its niceness as the kernel reports it. */
  readonly niceness: Record<string, number>;
  /** The threads that ran pool work after the change. */
  readonly poolWorkRanOn: number[];
}

// In a process of its own: the priority of a Jest worker's threads is the other tests' business.
const SCRIPT = `
import fs from 'node:fs';
import { lowerThreadPoolPriority } from './src/thread-pool-priority.ts';
const lowered = await lowerThreadPoolPriority(Number(process.argv[1]));
const niceness = {};
for (const tid of fs.readdirSync('/proc/self/task')) {
  const stat = fs.readFileSync('/proc/self/task/' + tid + '/stat', 'utf8');
  niceness[tid] = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}
const links = await Promise.all(Array.from({ length: 64 }, () => fs.promises.readlink('/proc/thread-self')));
const poolWorkRanOn = [...new Set(links.map((link) => Number(link.split('/').pop())))];
console.log(JSON.stringify({ pid: process.pid, lowered, niceness, poolWorkRanOn }));
`;

async function report(niceness: number, env: Record<string, string> = {}): Promise<Report> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT, String(niceness)], {
    env: { ...process.env, ...env },
  });
  return JSON.parse(stdout) as Report;
}

const linux = process.platform === 'linux' ? describe : describe.skip;

linux('lowering the priority of the password-hashing threads', () => {
  it('gives every thread of libuv\'s pool the niceness and leaves the main thread as it was', async () => {
    const { pid, lowered, niceness, poolWorkRanOn } = await report(7);
    expect(lowered).toHaveLength(4);
    for (const tid of lowered) expect(niceness[tid]).toBe(7);
    expect(niceness[pid]).toBe(os.getPriority());
    expect(poolWorkRanOn.every((tid) => lowered.includes(tid))).toBe(true);
  });

  it('finds as many threads as UV_THREADPOOL_SIZE makes', async () => {
    const { lowered, niceness } = await report(3, { UV_THREADPOOL_SIZE: '2' });
    expect(lowered).toHaveLength(2);
    expect(lowered.map((tid) => niceness[tid])).toEqual([3, 3]);
  });

  it('changes nothing when the setting is 0', async () => {
    const { lowered, niceness } = await report(0);
    expect(lowered).toEqual([]);
    expect(new Set(Object.values(niceness))).toEqual(new Set([os.getPriority()]));
  });
});
