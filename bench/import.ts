/*
 * npm run bench:import — issue 7's figures: 10 000 users with pre-hashed passwords, and plaintext
 * passwords hashed on all cores, against the machine's hash ceiling (one argon2id hash per core at a
 * time, every core busy). Prints the figures; writes nothing outside a temporary folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import argon2 from 'argon2';
import { loadConfig } from '../config/index.js';
import { runCli } from '../src/cli/main.js';

const PREHASHED = Number(process.env.BENCH_PREHASHED ?? 10_000);
const PLAINTEXT = Number(process.env.BENCH_PLAINTEXT ?? 200);
const cores = os.availableParallelism();
const { memoryKib, iterations } = loadConfig({}).passwordHash;
const options = { type: argon2.argon2id, memoryCost: memoryKib, timeCost: iterations, parallelism: 1 } as const;

async function importFile(lines: string[]): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twofold-import-bench-'));
  const io = { env: { DATA_DIR: dir }, cwd: dir, out: () => undefined, err: (line: string) => process.stderr.write(`${line}\n`), readStdin: async () => '' };
  await runCli(['org', 'create', 'city', '--name', 'City'], io);
  fs.writeFileSync(path.join(dir, 'users.csv'), lines.join('\n'));
  const start = performance.now();
  const status = await runCli(['user', 'import', 'users.csv'], io);
  const seconds = (performance.now() - start) / 1000;
  if (status !== 0) throw new Error('the import failed');
  return seconds;
}

/** Hashes per second with every core hashing, the way the import hashes. */
async function hashCeiling(): Promise<number> {
  const per = 20;
  const start = performance.now();
  await Promise.all(Array.from({ length: cores }, async () => {
    for (let i = 0; i < per; i += 1) await argon2.hash(`password ${i}`, options);
  }));
  return (cores * per) / ((performance.now() - start) / 1000);
}

const hash = await argon2.hash('shared long password', options);
const prehashed = await importFile(['email,name,password_hash,orgs', ...Array.from({ length: PREHASHED }, (_, i) => `user${i}@city.test,User ${i},"${hash}",city`)]);
const ceiling = await hashCeiling();
const plaintext = await importFile(['email,name,password,orgs', ...Array.from({ length: PLAINTEXT }, (_, i) => `user${i}@city.test,User ${i},password number ${i},city`)]);
const rate = PLAINTEXT / plaintext;
process.stdout.write([
  `${PREHASHED} users with pre-hashed passwords: ${prehashed.toFixed(2)} s (${Math.round(PREHASHED / prehashed)} users/s; target < 10 s)`,
  `hash ceiling, ${cores} cores: ${ceiling.toFixed(1)} argon2id hashes/s (${memoryKib} KiB, t=${iterations})`,
  `${PLAINTEXT} users with plaintext passwords: ${plaintext.toFixed(2)} s = ${rate.toFixed(1)} users/s = ${((100 * rate) / ceiling).toFixed(0)} % of the hash ceiling (target >= 90 %)`,
  '',
].join('\n'));
