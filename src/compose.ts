import type { Config } from '../config/index.js';
import { createApplication, type Application } from './application/index.js';
import type { Logger } from './log.js';
import { Mailer } from './mail/mailer.js';
import { resolveEncryptionKey } from './security/encryption-key.js';
import { createSecretBox, type SecretBox } from './security/secret-box.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/types.js';

/** Everything the server and the command line run on, built the same way for both. */
export interface Composition {
  readonly config: Config;
  readonly log: Logger;
  readonly store: Store;
  readonly box: SecretBox;
  readonly mailer: Mailer;
  readonly application: Application;
  close(): Promise<void>;
}

/**
 * The composition root: opens the store, makes the secret box and the mailer, and builds the
 * application layer on them. `mailRetryDelaysMs` lets the command line, which exits right away,
 * give up on a mail server that is down instead of waiting to retry.
 */
export async function compose(config: Config, log: Logger, { mailRetryDelaysMs }: { mailRetryDelaysMs?: number[] } = {}): Promise<Composition> {
  const box = createSecretBox(resolveEncryptionKey(config), config.previousEncryptionKeys);
  const store = await openStore(config);
  const mailer = mailRetryDelaysMs ? new Mailer(config, log, mailRetryDelaysMs) : new Mailer(config, log);
  return {
    config,
    log,
    store,
    box,
    mailer,
    application: createApplication({ config, store, box, mailer, log }),
    async close() {
      await mailer.close();
      await store.close();
    },
  };
}
