import http from 'node:http';
import type { Config } from '../config/index.js';
import { createApp, type TwofoldApp } from './app.js';
import { compose, type Composition } from './compose.js';
import { demoInstructions, seedDemo } from './demo/seed.js';
import { gracefulServer } from './http/graceful-shutdown.js';
import type { Logger } from './log.js';
import { lowerThreadPoolPriority } from './thread-pool-priority.js';
import { DELIVER_LOGOUT_TOKENS, DELIVER_MAIL, twofoldJobs } from './worker/jobs.js';
import { PeriodicJobs } from './worker/periodic-jobs.js';

export interface RunningTwofold {
  readonly app: TwofoldApp;
  readonly composition: Composition;
  readonly server: http.Server;
  readonly worker: PeriodicJobs;
  /**
   * Stops gracefully: readiness fails, no connection is accepted, the requests in flight finish (for
   * up to `graceMs`, then the rest are cut), the worker loop ends its current runs, and the store is
   * closed.
   */
  close(graceMs?: number): Promise<void>;
}

/** How long a shutdown waits for the requests in flight. */
export const SHUTDOWN_GRACE_MS = 10_000;

/** Opens the store, builds the app, seeds the demo when asked, listens, and starts the worker loop. */
export async function startTwofold(config: Config, log: Logger): Promise<RunningTwofold> {
  await lowerThreadPoolPriority(config.backgroundNiceness).catch((error: unknown) => {
    log.warn('could not lower the priority of the password-hashing threads; set BACKGROUND_THREAD_NICENESS=0 to stop trying', { error: String(error) });
  });
  const composition = await compose(config, log);
  const { store } = composition;
  let stopping = false;
  let app: TwofoldApp;
  try {
    app = await createApp(composition, { stopping: () => stopping });
    if (config.demo && (await seedDemo(app, config))) log.info('seeded the demo organization, users and relying party');
  } catch (error) {
    await composition.close();
    throw error;
  }

  const server = http.createServer(app.callback);
  const graceful = gracefulServer(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });

  composition.metrics.collectProcessMetrics();
  const worker = new PeriodicJobs(twofoldJobs({ config, store, application: composition.application, delivery: composition.delivery, logoutTokens: app.logoutTokens, log }), log);
  composition.mailer.onQueued(() => worker.runSoon(DELIVER_MAIL));
  app.signOuts.onRecorded(() => worker.runSoon(DELIVER_LOGOUT_TOKENS));
  worker.start();

  log.info(`Twofold is listening on ${config.host}:${(server.address() as { port: number }).port} as ${config.issuer} (store: ${store.kind})`);
  if (config.demo) log.info(demoInstructions(config.issuer));

  return {
    app,
    composition,
    server,
    worker,
    async close(graceMs = SHUTDOWN_GRACE_MS) {
      stopping = true;
      const cut = await graceful.shutdown(graceMs);
      if (cut > 0) log.warn(`${cut} requests were still running after ${graceMs / 1000} s and were cut`);
      composition.delivery.stop();
      app.logoutTokens.stop();
      await worker.stop();
      await composition.close();
    },
  };
}
