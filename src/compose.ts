import type { Config } from '../config/index.js';
import { createApplication, type Application } from './application/index.js';
import { TwofoldMetrics } from './http/metrics.js';
import type { Logger } from './log.js';
import { MailDelivery } from './mail/delivery.js';
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
  readonly metrics: TwofoldMetrics;
  /** Records e-mails in the store's outbox. */
  readonly mailer: Mailer;
  /** Sends what the outbox holds: the server's worker loop runs it, the command line once for its own messages. */
  readonly delivery: MailDelivery;
  readonly application: Application;
  close(): Promise<void>;
}

/**
 * The composition root: opens the store, makes the secret box, the metrics, the mailer and its
 * delivery, and builds the application layer on them.
 */
export async function compose(config: Config, log: Logger): Promise<Composition> {
  const box = createSecretBox(resolveEncryptionKey(config), config.previousEncryptionKeys);
  const store = await openStore(config, log);
  const metrics = new TwofoldMetrics();
  metrics.observeOutbox(() => store.outbox.depth());
  const mailer = new Mailer(config, store.outbox, box, log, metrics);
  const delivery = new MailDelivery(config, store.outbox, box, log, metrics);
  return {
    config,
    log,
    store,
    box,
    metrics,
    mailer,
    delivery,
    application: createApplication({ config, store, box, mailer, log, metrics }),
    async close() {
      delivery.close();
      await store.close();
    },
  };
}
