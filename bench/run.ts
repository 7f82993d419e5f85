/*
 * npm run bench — a full two-factor sign-in on Twofold against a bare oidc-provider's password
 * sign-in, measured in one run on this machine. Prints each figure and the ratios, and
 * writes them as JSON to bench/results/. Loopback only; every loop is bounded.
 *
 *   BENCH_USERS_SMALL (100), BENCH_USERS_LARGE (100000), BENCH_SIGN_INS (300), BENCH_CONCURRENCY (50),
 *   BENCH_ONE_AT_A_TIME (200: sign-ins one after another, for the server's CPU per step),
 *   BENCH_ROUNDS (6: the baseline and Twofold with each store take turns in this many slices),
 *   BENCH_FROM_SOURCES=1 (run Twofold through tsx instead of the compiled build), BENCH_PROFILE=1 (--cpu-prof),
 *   BENCH_PINNED=1 (each server on CPU BENCH_SERVER_CPU, 0, and this driver on BENCH_DRIVER_CPU, 1, with taskset),
 *   BENCH_DURABLE_BASELINE=1 (also the baseline keeping its data in Twofold's embedded store, beside the other two),
 *   PASSWORD_HASH_MEMORY_KIB and PASSWORD_HASH_ITERATIONS (the server's defaults) for both servers alike.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import argon2 from 'argon2';
import { generate } from 'otplib';
import { loadConfig } from '../config/index.js';
import { compileViews } from '../scripts/compile-views.js';
import { createSecretBox } from '../src/security/secret-box.js';
import { RECOVERY_PEPPER_PURPOSE, hashRecoveryCode, hashedForm, newRecoveryCodes } from '../src/factors/recovery-codes/codes.js';
import { sealTotpSecret } from '../src/factors/totp/index.js';
import { newTotpSecret } from '../src/factors/totp/totp.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { openMongoStore } from '../src/store/mongo/index.js';
import type { Store } from '../src/store/types.js';
import { Browser, formAction } from '../test/support/browser.js';
import { freePort } from '../test/support/twofold.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const SMALL = Number(process.env.BENCH_USERS_SMALL ?? 100);
const LARGE = Number(process.env.BENCH_USERS_LARGE ?? 100_000);
const SIGN_INS = Number(process.env.BENCH_SIGN_INS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
/** Sign-ins one at a time after the measured ones, to read the server's CPU step by step (0: none). */
const ONE_AT_A_TIME = Number(process.env.BENCH_ONE_AT_A_TIME ?? 200);
/** The baseline and Twofold with each store take turns in this many slices of their sign-ins (see sideBySide). */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 6));
const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const PASSWORD = 'bench password of reasonable length';
const CLK_TCK = 100;
/** Sign-ins before measuring, so that JIT compilation and first-use caches are not counted. */
const WARM_UP = 30;
/** The same argon2id parameters for the baseline, Twofold and the hash ceiling: the server's, unless set here. */
const { memoryKib, iterations } = loadConfig({
  PASSWORD_HASH_MEMORY_KIB: process.env.PASSWORD_HASH_MEMORY_KIB,
  PASSWORD_HASH_ITERATIONS: process.env.PASSWORD_HASH_ITERATIONS,
}).passwordHash;
const HASH_ENV = { PASSWORD_HASH_MEMORY_KIB: String(memoryKib), PASSWORD_HASH_ITERATIONS: String(iterations), PASSWORD_HASH_PARALLELISM: '1' };
/**
 * Pinned: every server on one core and this driver on another, so that the server's figures are not
 * disturbed by the driver's own work (the way the issue measured it).
 */
const PINNED = process.env.BENCH_PINNED === '1';
const SERVER_CPU = process.env.BENCH_SERVER_CPU ?? '0';
const DRIVER_CPU = process.env.BENCH_DRIVER_CPU ?? '1';
const DURABLE_BASELINE = process.env.BENCH_DURABLE_BASELINE === '1';
const TARGETS = { cpuRatio: 1.1, hashCeilingShare: 0.7, passcodeP99Ms: 30, peakRssMb: 220, largeVsSmall: 1.2 } as const;

type Step = 'authorize' | 'password' | 'passcode' | 'token';
interface Phase {
  name: string;
  signIns: number;
  failures: number;
  wallSeconds: number;
  serverCpuSeconds: number;
  cpuMsPerSignIn: number;
  /** The main thread's share: everything but the hash, which argon2 computes on libuv's threads. */
  mainThreadCpuMsPerSignIn: number;
  signInsPerSecond: number;
  signInsPerCoreSecond: number;
  peakRssMb: number;
  minorFaultsPerSignIn: number;
  latencyMs: Partial<Record<Step, { p50: number; p95: number; p99: number }>>;
  /** Sign-ins one at a time only: the server's CPU in each step (all threads, and the main thread's part). */
  cpuMsPerStep?: Partial<Record<Step, { all: number; main: number }>>;
}

const progress = (text: string) => process.stderr.write(`\r\x1b[K${text}`);
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Number((sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0).toFixed(1));
};

/** A process's CPU time (all its threads), or one thread's with `tid` (the main thread's tid is the pid). */
function cpuSecondsOf(pid: number, tid?: number): number {
  const fields = fs.readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}
/** A process's minor page faults so far: memory it touched for the first time (argon2's, each time it is mapped afresh). */
function minorFaultsOf(pid: number): number {
  return Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[7]);
}
function peakRssMbOf(pid: number): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'))!;
  return Math.round(Number(line.replace(/\D+/g, '')) / 1024);
}

/**
 * With BENCH_PROFILE=1, a server writes its CPU profiles (its main thread's, and a loader's) to a
 * folder bench/results/<name>-<time>/ as it exits.
 */
const profiled = (name: string) => (process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.join(ROOT, 'bench/results', `${name}-${Date.now()}`)}`] : []);

async function startProcess(args: string[], env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  // taskset executes node in its own place: the child's pid is the server's.
  const [command, ...rest] = PINNED ? ['taskset', '--cpu-list', SERVER_CPU, process.execPath, ...args] : [process.execPath, ...args];
  const child = spawn(command!, rest, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start`)), 60_000);
    const check = (chunk: Buffer) => {
      if (ready.test(chunk.toString())) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  return child;
}

function pkce() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') };
}

async function exchange(origin: string, clientId: string, location: string, verifier: string): Promise<void> {
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error(`no code in ${location}`);
  const response = await fetch(`${origin}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: clientId, code_verifier: verifier }),
  });
  if (response.status !== 200) throw new Error(`token endpoint answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { id_token?: string };
  if (!body.id_token) throw new Error('no ID token');
}

/** Runs one step of a sign-in, timing it. */
type StepRunner = <T>(step: Step, work: () => Promise<T>) => Promise<T>;
type SignIn = (index: number, step: StepRunner) => Promise<void>;

/** What sign-ins on one server added up to, over one or several runs of them. */
interface Tally {
  timings: Record<Step, number[]>;
  stepCpu: Record<Step, { all: number; main: number }>;
  count: number;
  failures: number;
  cpuSeconds: number;
  mainCpuSeconds: number;
  wallSeconds: number;
  minorFaults: number;
  oneAtATime: boolean;
}

const newTally = (oneAtATime = false): Tally => ({
  timings: { authorize: [], password: [], passcode: [], token: [] },
  stepCpu: { authorize: { all: 0, main: 0 }, password: { all: 0, main: 0 }, passcode: { all: 0, main: 0 }, token: { all: 0, main: 0 } },
  count: 0,
  failures: 0,
  cpuSeconds: 0,
  mainCpuSeconds: 0,
  wallSeconds: 0,
  minorFaults: 0,
  oneAtATime,
});

/**
 * Sign-ins `concurrency` at a time, added to `tally`. One at a time, the server's CPU during each
 * step is that step's (read from /proc in clock ticks of 10 ms: summed over many sign-ins, the
 * rounding evens out).
 */
async function runSignIns(tally: Tally, name: string, pid: number, count: number, signIn: SignIn, concurrency = CONCURRENCY): Promise<void> {
  const oneAtATime = concurrency === 1;
  const runStep: StepRunner = async (step, work) => {
    const cpu = oneAtATime ? [cpuSecondsOf(pid), cpuSecondsOf(pid, pid)] : [];
    const start = performance.now();
    const result = await work();
    tally.timings[step].push(performance.now() - start);
    if (oneAtATime) {
      tally.stepCpu[step].all += cpuSecondsOf(pid) - cpu[0]!;
      tally.stepCpu[step].main += cpuSecondsOf(pid, pid) - cpu[1]!;
    }
    return result;
  };
  let next = 0;
  let done = 0;
  const cpuBefore = cpuSecondsOf(pid);
  const mainBefore = cpuSecondsOf(pid, pid);
  const faultsBefore = minorFaultsOf(pid);
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const index = next++;
      try {
        await signIn(index, runStep);
      } catch (error) {
        tally.failures += 1;
        if (tally.failures <= 3) process.stderr.write(`\n${name}: sign-in ${index} failed: ${(error as Error).message}\n`);
      }
      done += 1;
      if (done % 10 === 0) progress(`${name}: ${done}/${count} sign-ins`);
    }
  }));
  tally.wallSeconds += (performance.now() - started) / 1000;
  tally.cpuSeconds += cpuSecondsOf(pid) - cpuBefore;
  tally.mainCpuSeconds += cpuSecondsOf(pid, pid) - mainBefore;
  tally.minorFaults += minorFaultsOf(pid) - faultsBefore;
  tally.count += count;
  progress('');
}

function phaseOf(name: string, pid: number, tally: Tally): Phase {
  const succeeded = tally.count - tally.failures;
  const latencyMs: Phase['latencyMs'] = {};
  for (const step of Object.keys(tally.timings) as Step[]) {
    const timings = tally.timings[step];
    if (timings.length) latencyMs[step] = { p50: percentile(timings, 50), p95: percentile(timings, 95), p99: percentile(timings, 99) };
  }
  const perSignIn = (seconds: number) => Number(((seconds * 1000) / Math.max(1, succeeded)).toFixed(2));
  return {
    name,
    signIns: succeeded,
    failures: tally.failures,
    wallSeconds: Number(tally.wallSeconds.toFixed(2)),
    serverCpuSeconds: Number(tally.cpuSeconds.toFixed(2)),
    cpuMsPerSignIn: perSignIn(tally.cpuSeconds),
    mainThreadCpuMsPerSignIn: perSignIn(tally.mainCpuSeconds),
    signInsPerSecond: Number((succeeded / tally.wallSeconds).toFixed(1)),
    signInsPerCoreSecond: Number((succeeded / Math.max(0.001, tally.cpuSeconds)).toFixed(1)),
    peakRssMb: peakRssMbOf(pid),
    minorFaultsPerSignIn: Math.round(tally.minorFaults / Math.max(1, succeeded)),
    latencyMs,
    ...(tally.oneAtATime ? {
      cpuMsPerStep: Object.fromEntries((Object.keys(tally.stepCpu) as Step[]).filter((step) => tally.timings[step].length > 0).map((step) => [step, {
        all: perSignIn(tally.stepCpu[step].all),
        main: perSignIn(tally.stepCpu[step].main),
      }])),
    } : {}),
  };
}

async function runPhase(name: string, pid: number, count: number, signIn: SignIn, concurrency = CONCURRENCY): Promise<Phase> {
  const tally = newTally(concurrency === 1);
  await runSignIns(tally, name, pid, count, signIn, concurrency);
  return phaseOf(name, pid, tally);
}

/** Verifies a hash `N` times and prints the CPU it took: the hash ceiling's unit of work, in a process of its own. */
const CEILING_SCRIPT = `
import argon2 from 'argon2';
const options = { type: argon2.argon2id, memoryCost: Number(process.env.M), timeCost: Number(process.env.T), parallelism: 1 };
const hash = await argon2.hash('bench', options);
await argon2.verify(hash, 'bench');
const start = process.cpuUsage();
for (let i = 0; i < Number(process.env.N); i += 1) await argon2.verify(hash, 'bench');
const cpu = process.cpuUsage(start);
process.stdout.write(String((cpu.user + cpu.system) / 1e6));
`;

/**
 * argon2id verifications per core-second at the configured parameters, measured on the servers' core
 * (pinned) in a few verifications at a time between the rounds of sign-ins, so that it drifts with the
 * machine as the sign-ins do.
 */
class HashCeiling {
  #verifications = 0;
  #seconds = 0;

  measure(verifications: number): void {
    const command = PINNED ? ['taskset', '--cpu-list', SERVER_CPU, process.execPath] : [process.execPath];
    const run = spawnSync(command[0]!, [...command.slice(1), '--input-type=module', '-e', CEILING_SCRIPT], {
      cwd: ROOT, env: { ...process.env, M: String(memoryKib), T: String(iterations), N: String(verifications) }, encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`measuring the hash ceiling failed: ${run.stderr}`);
    this.#verifications += verifications;
    this.#seconds += Number(run.stdout);
  }

  perCoreSecond(): number {
    return this.#verifications / this.#seconds;
  }
}

/** A server under test: its process, a sign-in of the `index`th user of a range, and how to stop it. */
interface ServerUnderTest {
  readonly pid: number;
  /** Sign-ins of users `first` on; on Twofold at TOTP step `round` from now (0: the current one). */
  signInOf(first: number, round?: number): SignIn;
  stop(): Promise<void>;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

/** The bare provider; `durable`, with its models in Twofold's embedded store (see baseline-server.ts). */
async function startBaseline(passwordHash: string, durable = false): Promise<ServerUnderTest> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const dataDir = durable ? fs.mkdtempSync(path.join(os.tmpdir(), 'twofold-bench-baseline-')) : null;
  const child = await startProcess([...profiled(durable ? 'baseline-durable' : 'baseline'), '--import', 'tsx', 'bench/baseline-server.ts'], {
    PORT: String(port), REDIRECT_URI, PASSWORD_HASH: passwordHash, ...HASH_ENV, ...(dataDir ? { DATA_FILE: path.join(dataDir, 'baseline.db') } : {}),
  }, /ready/);
  return {
    pid: child.pid!,
    signInOf: (first) => async (index, step) => {
      const browser = new Browser(origin);
      const { verifier, challenge } = pkce();
      const auth = `${origin}/auth?${new URLSearchParams({ client_id: 'bench', response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256' })}`;
      const login = await step('authorize', () => browser.visit(auth));
      const landed = await step('password', () => browser.visit(new URL(formAction(login.html, '/login'), origin).href, {
        method: 'POST', body: new URLSearchParams({ email: `user${first + index}@bench.test`, password: PASSWORD }), headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }));
      await step('token', () => exchange(origin, 'bench', landed.url, verifier));
    },
    async stop() {
      await stopProcess(child);
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Users enrolled in 2FA, in an organization that forces it; all share one password hash, one TOTP key
 * and one set of ten recovery codes (with few codes left, a sign-in would stop at an offer to make new ones).
 */
async function seed(store: Store, users: number, passwordHash: string, secret: string, encryptionKey: string): Promise<void> {
  const box = createSecretBox(encryptionKey);
  const pepper = box.deriveKey(RECOVERY_PEPPER_PURPOSE);
  const recoveryCodeHashes = await Promise.all(newRecoveryCodes().map((code) => hashRecoveryCode(hashedForm(code), pepper)));
  const organization = await store.organizations.create({ slug: 'bench', name: 'Bench' });
  await store.organizations.setForceTwoFactor(organization.id, true, new Date());
  await store.clients.create({ clientId: 'bench', name: 'Bench', sealedSecret: null, redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [], firstParty: true });
  for (let i = 0; i < users; i += 1) {
    const user = await store.users.create({ email: `user${i}@bench.test`, name: `User ${i}`, passwordHash, siteAdmin: false });
    await store.memberships.put(organization.id, user.id, 'member');
    await store.secondFactors.enable({ userId: user.id, sealedSecret: sealTotpSecret(box, user.id, secret), lastTimeStep: 0, recoveryKeyId: box.currentKeyId, recoveryCodeHashes });
    if (i % 1000 === 999) progress(`seeding ${i + 1}/${users} users`);
  }
  progress('');
}

async function startTwofold(users: number, passwordHash: string): Promise<ServerUnderTest & { readonly store: string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twofold-bench-'));
  const encryptionKey = crypto.randomBytes(32).toString('base64');
  const secret = newTotpSecret();
  const mongoUri = process.env.MONGODB_URI ? `${process.env.MONGODB_URI.replace(/\/[^/]*$/, '')}/twofold_bench_${users}_${Date.now()}` : undefined;
  const store = mongoUri ? await openMongoStore(mongoUri) : openSqliteStore(path.join(dataDir, 'twofold.db'));
  await seed(store, users, passwordHash, secret, encryptionKey);
  await store.close();

  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const server = process.env.BENCH_FROM_SOURCES ? ['--import', 'tsx', 'src/server.ts'] : ['dist/src/server.js'];
  const child = await startProcess([...profiled(`twofold-${users}`), ...server], {
    PORT: String(port), ISSUER: origin, DATA_DIR: dataDir, ENCRYPTION_KEY: encryptionKey, TWOFOLD_DEMO: '0', LOG_LEVEL: 'info', ...HASH_ENV,
    ...(mongoUri ? { MONGODB_URI: mongoUri } : { MONGODB_URI: '' }),
  }, /listening|Twofold is/);
  const accepted = new Set<string>();
  let replays = 0;
  return {
    pid: child.pid!,
    store: `${users.toLocaleString('en')} users in the store${mongoUri ? ' (MongoDB)' : ''}`,
    signInOf: (first, round = 0) => async (index, step) => {
      const email = `user${first + index}@bench.test`;
      const browser = new Browser(origin);
      const { verifier, challenge } = pkce();
      const auth = `${origin}/auth?${new URLSearchParams({ client_id: 'bench', response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256' })}`;
      const login = await step('authorize', () => browser.visit(auth));
      const challengePage = await step('password', () => browser.submit(login, formAction(login.html, '/login'), { email, password: PASSWORD }));
      if (!/One-time passcode/.test(challengePage.html)) throw new Error(`expected the challenge, got ${challengePage.status}`);
      const code = await generate({ secret, epoch: Math.floor(Date.now() / 1000) + round * 30 });
      const landed = await step('passcode', () => browser.submit(challengePage, formAction(challengePage.html, '/challenge'), { passcode: code }));
      if (!landed.url.startsWith(REDIRECT_URI)) {
        if (/already used/.test(landed.html)) replays += 1;
        throw new Error(`passcode step ended at ${landed.status} ${landed.url}: ${/role="alert">([^<]*)/.exec(landed.html)?.[1] ?? 'no error shown'}`);
      }
      const key = `${email}:${code}`;
      if (accepted.has(key)) throw new Error(`the passcode of ${email} was accepted twice`);
      accepted.add(key);
      await step('token', () => exchange(origin, 'bench', landed.url, verifier));
    },
    async stop() {
      await stopProcess(child);
      // The store of 100 000 users is a few hundred megabytes: a run leaves nothing behind.
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (replays) process.stderr.write(`${replays} replays refused\n`);
    },
  };
}

interface Turn {
  readonly name: string;
  readonly server: ServerUnderTest;
  readonly count: number;
  /** Its users, `first` on, at TOTP step `round` from now. */
  readonly first: number;
  readonly round?: number;
}

/**
 * Each server's sign-ins in `ROUNDS` slices, the servers taking turns (A, B, A, B …), so that a change
 * in the machine's speed during the run — its cores are shared — falls on all alike instead of on
 * whichever was measured last. `eachRound` runs before each round.
 */
async function sideBySide(turns: readonly Turn[], concurrency = CONCURRENCY, eachRound: () => void = () => {}): Promise<Phase[]> {
  const tallies = turns.map(() => newTally(concurrency === 1));
  for (let round = 0; round < ROUNDS; round += 1) {
    eachRound();
    for (const [i, turn] of turns.entries()) {
      const slice = Math.ceil(turn.count / ROUNDS);
      const done = round * slice;
      const size = Math.min(slice, turn.count - done);
      if (size <= 0) continue;
      await runSignIns(tallies[i]!, turn.name, turn.server.pid, size, turn.server.signInOf(turn.first + done, turn.round), concurrency);
    }
  }
  return turns.map(({ name, server }, i) => phaseOf(name, server.pid, tallies[i]!));
}

interface Measured {
  readonly ceiling: number;
  readonly base: Phase;
  readonly durableBase?: Phase;
  readonly small: Phase;
  readonly large: Phase;
  readonly baseSteps?: Phase;
  readonly largeSteps?: Phase;
}

/**
 * The baseline and Twofold with the small and the large store, all running, measured side by side:
 * their sign-ins `CONCURRENCY` at a time, with the hash ceiling between the rounds; then (where the
 * large store has users enough) the baseline's and Twofold's one at a time, for the CPU of each step.
 */
async function measure(passwordHash: string): Promise<Measured> {
  const ceiling = new HashCeiling();
  ceiling.measure(16);
  const small = await startTwofold(SMALL, passwordHash);
  const large = await startTwofold(LARGE, passwordHash);
  const baseline = await startBaseline(passwordHash);
  const durableBaseline = DURABLE_BASELINE ? await startBaseline(passwordHash, true) : null;
  try {
    // A user signs in once per TOTP step: the warm-up takes a store's last users at this step, the
    // measured sign-ins its first ones — at the next step when there are too few to keep them apart.
    const warmUpOf = (users: number) => Math.min(WARM_UP, users);
    await runPhase('warm-up', baseline.pid, WARM_UP, baseline.signInOf(0));
    if (durableBaseline) await runPhase('warm-up', durableBaseline.pid, WARM_UP, durableBaseline.signInOf(0));
    for (const [server, users] of [[small, SMALL], [large, LARGE]] as const) await runPhase('warm-up', server.pid, warmUpOf(users), server.signInOf(users - warmUpOf(users)));
    const countOf = (users: number) => Math.min(SIGN_INS, users);
    const roundOf = (users: number) => (countOf(users) + warmUpOf(users) > users ? 1 : 0);
    const [base, smallPhase, largePhase, durableBase] = await sideBySide([
      { name: 'baseline (bare oidc-provider, password only)', server: baseline, count: SIGN_INS, first: 0 },
      { name: `Twofold, 2FA sign-in, ${small.store}`, server: small, count: countOf(SMALL), first: 0, round: roundOf(SMALL) },
      { name: `Twofold, 2FA sign-in, ${large.store}`, server: large, count: countOf(LARGE), first: 0, round: roundOf(LARGE) },
      ...(durableBaseline ? [{ name: 'baseline with its data in the embedded store (password only)', server: durableBaseline, count: SIGN_INS, first: 0 }] : []),
    ], CONCURRENCY, () => ceiling.measure(8));
    const measured = { ceiling: ceiling.perCoreSecond(), base: base!, small: smallPhase!, large: largePhase!, ...(durableBase ? { durableBase } : {}) };
    // One at a time with users that have not signed in yet, where the store has enough of them.
    const first = countOf(LARGE);
    if (ONE_AT_A_TIME === 0 || first + warmUpOf(LARGE) + ONE_AT_A_TIME > LARGE) return measured;
    const [baseSteps, largeSteps] = await sideBySide([
      { name: 'baseline, one sign-in at a time', server: baseline, count: ONE_AT_A_TIME, first },
      { name: 'Twofold, one sign-in at a time', server: large, count: ONE_AT_A_TIME, first },
    ], 1);
    return { ...measured, baseSteps, largeSteps };
  } finally {
    await durableBaseline?.stop();
    await baseline.stop();
    await large.stop();
    await small.stop();
  }
}

async function main(): Promise<void> {
  // Measured as it runs in production: the compiled build (`npm start`, after `npm run build`), not the TypeScript sources.
  const build = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('the build failed');
  compileViews();
  if (PINNED) {
    // Every thread of this driver (fetch's included) on its own core, away from the servers'.
    const pinned = spawnSync('taskset', ['--all-tasks', '--cpu-list', '--pid', DRIVER_CPU, String(process.pid)], { stdio: 'ignore' });
    if (pinned.status !== 0) throw new Error(`BENCH_PINNED=1 needs taskset and CPUs ${SERVER_CPU} and ${DRIVER_CPU}`);
  }
  const setup = `argon2id ${memoryKib} KiB, t=${iterations}; ${SIGN_INS} sign-ins, ${CONCURRENCY} concurrent users; ${os.cpus().length} cores${PINNED ? `; servers pinned to CPU ${SERVER_CPU}, the driver to CPU ${DRIVER_CPU}` : ''}`;
  process.stderr.write(`${setup}\n`);
  const passwordHash = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: memoryKib, timeCost: iterations, parallelism: 1 });
  const { ceiling, base, durableBase, small, large, baseSteps, largeSteps } = await measure(passwordHash);

  const ratios = {
    cpuPerSignInVsBaseline: Number((large.cpuMsPerSignIn / base.cpuMsPerSignIn).toFixed(3)),
    signInsPerCoreSecondVsHashCeiling: Number((large.signInsPerCoreSecond / ceiling).toFixed(3)),
    largeStoreVsSmallStoreCpu: Number((large.cpuMsPerSignIn / small.cpuMsPerSignIn).toFixed(3)),
    ...(durableBase ? {
      cpuPerSignInVsDurableBaseline: Number((large.cpuMsPerSignIn / durableBase.cpuMsPerSignIn).toFixed(3)),
      durableBaselineVsBaselineCpu: Number((durableBase.cpuMsPerSignIn / base.cpuMsPerSignIn).toFixed(3)),
    } : {}),
  };
  const passcodeP99 = Math.max(small.latencyMs.passcode?.p99 ?? 0, large.latencyMs.passcode?.p99 ?? 0);
  const peakRss = Math.max(small.peakRssMb, large.peakRssMb);
  const result = {
    at: new Date().toISOString(),
    machine: { cores: os.cpus().length, node: process.version },
    setup: { concurrency: CONCURRENCY, signIns: SIGN_INS, pinned: PINNED ? { server: SERVER_CPU, driver: DRIVER_CPU } : null },
    argon2: { memoryKib, iterations },
    hashCeilingPerCoreSecond: Number(ceiling.toFixed(1)),
    phases: [base, small, large, ...(baseSteps && largeSteps ? [baseSteps, largeSteps] : []), ...(durableBase ? [durableBase] : [])],
    ratios,
    targets: TARGETS,
  };
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  const stepTable = (bare: Phase, ours: Phase) => {
    const steps: Step[] = ['authorize', 'password', 'passcode', 'token'];
    const cell = (cost: { all: number; main: number } | undefined) => (cost ? `${cost.all.toFixed(1)} / ${cost.main.toFixed(1)}` : '—').padStart(13);
    const row = (name: string, costs: Phase['cpuMsPerStep']) => {
      const total = steps.reduce((sum, step) => ({ all: sum.all + (costs?.[step]?.all ?? 0), main: sum.main + (costs?.[step]?.main ?? 0) }), { all: 0, main: 0 });
      return `  ${name.padEnd(22)}${steps.map((step) => cell(costs?.[step])).join('')}${cell(total)}`;
    };
    const difference = Object.fromEntries(steps.map((step) => [step, {
      all: (ours.cpuMsPerStep?.[step]?.all ?? 0) - (bare.cpuMsPerStep?.[step]?.all ?? 0),
      main: (ours.cpuMsPerStep?.[step]?.main ?? 0) - (bare.cpuMsPerStep?.[step]?.main ?? 0),
    }]));
    return [
      `server CPU per step, ${ours.signIns} sign-ins one at a time (ms: all threads / main thread):`,
      `  ${''.padEnd(22)}${[...steps, 'sign-in'].map((step) => step.padStart(13)).join('')}`,
      row('baseline', bare.cpuMsPerStep),
      row(`Twofold, ${LARGE.toLocaleString('en')} users`, ours.cpuMsPerStep),
      row('difference', difference),
    ];
  };

  const line = (phase: Phase) => [
    `${phase.name}`,
    `  sign-ins ${phase.signIns} (failed ${phase.failures}) in ${phase.wallSeconds} s = ${phase.signInsPerSecond}/s; server CPU ${phase.cpuMsPerSignIn} ms per sign-in (main thread ${phase.mainThreadCpuMsPerSignIn} ms: all but what Node runs on its other threads — the hash, signatures) = ${phase.signInsPerCoreSecond} per core-second; peak RSS ${phase.peakRssMb} MB; ${phase.minorFaultsPerSignIn} page faults per sign-in`,
    ...Object.entries(phase.latencyMs).map(([step, l]) => `  ${step.padEnd(9)} p50 ${l!.p50} ms  p95 ${l!.p95} ms  p99 ${l!.p99} ms`),
  ].join('\n');
  process.stdout.write([
    setup,
    `hash ceiling: ${result.hashCeilingPerCoreSecond} argon2id verifications per core-second (${(1000 / ceiling).toFixed(1)} ms each)`,
    line(base),
    line(small),
    line(large),
    ...(durableBase ? [line(durableBase)] : []),
    `ratios: Twofold CPU per 2FA sign-in / baseline CPU per password sign-in = ${ratios.cpuPerSignInVsBaseline} (target <= ${TARGETS.cpuRatio}: ${verdict(ratios.cpuPerSignInVsBaseline <= TARGETS.cpuRatio)})`,
    `        Twofold sign-ins per core-second / hash ceiling = ${ratios.signInsPerCoreSecondVsHashCeiling} (target >= ${TARGETS.hashCeilingShare}: ${verdict(ratios.signInsPerCoreSecondVsHashCeiling >= TARGETS.hashCeilingShare)})`,
    `        CPU per sign-in with ${LARGE.toLocaleString('en')} users / with ${SMALL} users = ${ratios.largeStoreVsSmallStoreCpu} (target <= ${TARGETS.largeVsSmall}: ${verdict(ratios.largeStoreVsSmallStoreCpu <= TARGETS.largeVsSmall)})`,
    `        passcode step p99 ${passcodeP99} ms (target <= ${TARGETS.passcodeP99Ms} ms: ${verdict(passcodeP99 <= TARGETS.passcodeP99Ms)}); Twofold's peak RSS ${peakRss} MB (target <= ${TARGETS.peakRssMb} MB: ${verdict(peakRss <= TARGETS.peakRssMb)})`,
    ...(ratios.cpuPerSignInVsDurableBaseline !== undefined ? [
      `        no target: the baseline with its data in the embedded store / without = ${ratios.durableBaselineVsBaselineCpu}; Twofold / that baseline = ${ratios.cpuPerSignInVsDurableBaseline}`,
    ] : []),
    ...(baseSteps && largeSteps ? stepTable(baseSteps, largeSteps) : []),
    '',
  ].join('\n'));
  const failures = result.phases.reduce((sum, phase) => sum + phase.failures, 0);
  fs.mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  const file = path.join(ROOT, 'bench/results', `${result.at.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`written to ${path.relative(ROOT, file)}\n`);
  if (failures > 0) {
    process.stderr.write(`${failures} sign-ins failed: under load, every sign-in must succeed.\n`);
    process.exitCode = 1;
  }
}

await main();
