import { spawn, type ChildProcess } from 'node:child_process';
import { PROJECT_ROOT } from '../../src/project-root.js';

/** A Twofold server in its own process (`node src/server.ts`, as `npm start` runs it, from the sources). */
export interface TwofoldProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Every line it wrote to stderr (its log: JSON lines, since stderr is not a terminal), in order. */
  readonly lines: string[];
  /** Its log lines, parsed. */
  events(): Array<Record<string, unknown>>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts Twofold as a separate process with `env` (PORT and DATA_DIR at least) and waits until it
 * listens. Nothing is shared with the test's process but the files and the network.
 */
export async function startTwofoldProcess(env: Record<string, string>): Promise<TwofoldProcess> {
  // Jest's NODE_OPTIONS (--experimental-vm-modules) is the test runner's, not the server's.
  const { NODE_OPTIONS: _jestOnly, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: PROJECT_ROOT,
    // The embedded store unless the test says otherwise: the processes share DATA_DIR with the test's command lines.
    env: { ...inherited, TWOFOLD_DEMO: '0', LOG_LEVEL: 'info', MONGODB_URI: '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Twofold did not start within 60 s:\n${lines.join('\n')}`)), 60_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const complete = text.split('\n');
      partial = complete.pop()!;
      for (const line of complete) {
        lines.push(line);
        if (line.includes('Twofold is listening')) {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`Twofold exited with ${code} before listening:\n${lines.join('\n')}`));
    });
  });
  await listening;
  return {
    url: env.ISSUER ?? `http://localhost:${env.PORT}`,
    child,
    lines,
    events: () => lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>),
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
