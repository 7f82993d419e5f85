import http from 'node:http';
import type { Config } from '../config/index.js';
import { createApp, type TwofoldApp } from './app.js';
import { demoInstructions, seedDemo } from './demo/seed.js';
import type { Logger } from './log.js';
import { resolveEncryptionKey } from './security/encryption-key.js';
import { openStore } from './store/open-store.js';

export interface RunningTwofold {
  readonly app: TwofoldApp;
  readonly server: http.Server;
  close(): Promise<void>;
}

const PURGE_INTERVAL_MS = 10 * 60 * 1000;

/** Opens the store, builds the app, seeds the demo when asked, and listens. */
export async function startTwofold(config: Config, log: Logger): Promise<RunningTwofold> {
  const encryptionKey = resolveEncryptionKey(config);
  const store = await openStore(config);
  let app: TwofoldApp;
  try {
    app = await createApp({ config, store, encryptionKey, log });
    if (config.demo && (await seedDemo(store, app.directory, config))) log.info('seeded the demo organization, users and relying party');
  } catch (error) {
    await store.close();
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
    server,
    async close() {
      clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await app.mailer.close();
      await store.close();
    },
  };
}
