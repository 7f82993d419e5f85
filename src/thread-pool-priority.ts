import fs from 'node:fs/promises';
import os from 'node:os';

/**
 * The threads of libuv's pool, where argon2 hashes passwords: found by asking each which it is, as a
 * readlink of /proc/thread-self runs on whichever pool thread takes it. Enough of them at once keep
 * every thread busy, so a few rounds find them all.
 */
async function poolThreadIds(size: number): Promise<ReadonlySet<number>> {
  const ids = new Set<number>();
  for (let round = 0; round < 50 && ids.size < size; round += 1) {
    const links = await Promise.all(Array.from({ length: size * 4 }, () => fs.readlink('/proc/thread-self')));
    for (const link of links) ids.add(Number(link.slice(link.lastIndexOf('/') + 1)));
  }
  return ids;
}

/** libuv's own default when UV_THREADPOOL_SIZE is unset or out of its range. */
function poolSize(): number {
  const size = Number(process.env.UV_THREADPOOL_SIZE);
  return Number.isInteger(size) && size >= 1 && size <= 1024 ? size : 4;
}

/**
 * Gives the pool's threads the niceness `BACKGROUND_THREAD_NICENESS` sets, so that the main thread,
 * which answers every request, is not queued behind password hashes on a busy core
 * (docs/security-model.md, "Background threads"). Linux only: elsewhere threads share the process's
 * priority. Returns the threads it changed.
 */
export async function lowerThreadPoolPriority(niceness: number): Promise<readonly number[]> {
  if (process.platform !== 'linux' || niceness === 0) return [];
  const ids = [...(await poolThreadIds(poolSize()))];
  for (const id of ids) os.setPriority(id, niceness);
  return ids;
}
