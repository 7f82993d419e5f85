import http from 'node:http';
import type { Config } from '../config/index.js';
import { createApp, type TwofoldApp } from './app.js';
import { compose, type Composition } from './compose.js';
import { demoInstructions, seedDemo } from './demo/seed.js';
import type { Logger } from './log.js';

export interface RunningTwofold {
  readonly app: TwofoldApp;
  readonly composition: Composition;
  readonly server: http.Server;
  close(): Promise<void>;
}

const PURGE_INTERVAL_MS = 10 * 60 * 1000;

/** Opens the store, builds the app, seeds the demo when asked, and listens. */
export async function startTwofold(config: Config, log: Logger): Promise<RunningTwofold> {
  const composition = await compose(config, log);
  const { store } = composition;
  let app: TwofoldApp;
  try {
    app = await createApp(composition);
    if (config.demo && (await seedDemo(app, config))) log.info('seeded the demo organization, users and relying party');
  } catch (error) {
    await composition.close();
    throw error;
  }

  const server = http.createServer(app.callback);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });

  const purge = () =>
    Promise.all([store.oidc.purgeExpired(), store.attempts.purgeExpired()]).catch((error: Error) =>
      log.warn('purging expired sessions and counters failed', { error: error.message }));
  void purge();
  const timer = setInterval(purge, PURGE_INTERVAL_MS);
  timer.unref();

  log.info(`Twofold is listening on ${config.host}:${(server.address() as { port: number }).port} as ${config.issuer} (store: ${store.kind})`);
  if (config.demo) log.info(demoInstructions(config.issuer));

  return {
    app,
    composition,
    server,
    async close() {
      clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await composition.close();
    },
  };
}
