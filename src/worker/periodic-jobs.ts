import type { Logger } from '../log.js';

/** One entry of the worker loop: a name, how often, and what to do. */
export interface PeriodicJob {
  readonly name: string;
  /** The pause between the end of one run and the start of the next. */
  readonly everyMs: number;
  run(): Promise<unknown>;
}

interface JobState {
  readonly job: PeriodicJob;
  timer: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
  /** Asked to run while it was running: once more as soon as it ends. */
  again: boolean;
}

/**
 * The worker loop of a Twofold process: each job runs once at start, then again `everyMs` after its
 * previous run ended, never twice at once. A run that fails is logged and the job keeps its turns.
 * Several processes may run the same jobs on one store: each job is written to be safe then (the
 * outbox claims messages with a lease; pruning and purging are idempotent).
 */
export class PeriodicJobs {
  readonly #jobs: Map<string, JobState>;
  #stopped = false;

  constructor(jobs: readonly PeriodicJob[], private readonly log: Logger) {
    this.#jobs = new Map(jobs.map((job) => [job.name, { job, timer: undefined, running: undefined, again: false }]));
  }

  start(): void {
    for (const state of this.#jobs.values()) this.#schedule(state, 0);
  }

  /** Brings the job's next run forward to now (or right after the run in progress). */
  runSoon(name: string): void {
    const state = this.#jobs.get(name);
    if (!state || this.#stopped) return;
    if (state.running) state.again = true;
    else this.#schedule(state, 0);
  }

  /** No run starts after this; resolves when the runs in progress have ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const state of this.#jobs.values()) clearTimeout(state.timer);
    await Promise.all([...this.#jobs.values()].map((state) => state.running));
  }

  #schedule(state: JobState, delayMs: number): void {
    clearTimeout(state.timer);
    // Unreferenced: the loop never keeps a process alive that has nothing else to do (the command line, a test).
    state.timer = setTimeout(() => void this.#run(state), delayMs).unref();
  }

  async #run(state: JobState): Promise<void> {
    if (this.#stopped || state.running) return;
    state.running = state.job.run().then(
      () => undefined,
      (error: Error) => this.log.warn(`the ${state.job.name} job failed; it runs again at its next turn`, { error: error.message }),
    );
    await state.running;
    state.running = undefined;
    if (this.#stopped) return;
    const again = state.again;
    state.again = false;
    this.#schedule(state, again ? 0 : state.job.everyMs);
  }
}
