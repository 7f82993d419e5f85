import { ConfigError, loadConfig } from '../config/index.js';
import { createLogger } from './log.js';
import { startTwofold } from './start.js';

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
  const stop = (signal: string) => {
    log.info(`${signal} received, shutting down`);
    running.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

await main();
