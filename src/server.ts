import { ConfigError, loadConfig } from '../config/index.js';
import { createLogger } from './log.js';
import { SHUTDOWN_GRACE_MS, startTwofold } from './start.js';

/** Entry point: `npm start`. Configuration errors name the setting to fix and stop the start. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`twofold: configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  // JSON lines for log collectors; plain lines for a person watching a terminal (the demo's instructions).
  const log = createLogger(config.logLevel, undefined, { format: process.stderr.isTTY ? 'plain' : 'json' });
  let running;
  try {
    running = await startTwofold(config, log);
  } catch (error) {
    log.error(`Twofold could not start: ${(error as Error).message}`);
    process.exit(1);
  }
  // The first signal stops gracefully and exits 0; a second one, while that runs, exits at once.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn(`${signal} received again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal} received: no new connections; finishing the requests in flight (up to ${SHUTDOWN_GRACE_MS / 1000} s)`);
    running.close().then(
      () => {
        log.info('Twofold stopped');
        process.exit(0);
      },
      (error: Error) => {
        log.error(`Twofold could not stop cleanly: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

await main();
