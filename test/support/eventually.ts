import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits for what another process, thread or worker loop does, however slow the machine: it asks
 * `find` again every few milliseconds until it returns something. It sets no deadline of its own —
 * a wait cut short by the clock fails on a loaded CI machine for nothing — so the test's own
 * timeout is what ends a wait for something that never comes.
 */
export async function eventually<T>(find: () => T | undefined | null | false | Promise<T | undefined | null | false>): Promise<T> {
  for (;;) {
    const found = await find();
    if (found !== undefined && found !== null && found !== false) return found;
    await sleep(20);
  }
}
