import type Provider from 'oidc-provider';
import type { Config } from '../config/index.js';
import type { Directory } from './directory/directory.js';
import type { Logger } from './log.js';
import type { PasswordHasher } from './security/password-hasher.js';
import type { SecretBox } from './security/secret-box.js';
import type { Store } from './store/types.js';

/** What the HTTP routes need, built once in app.ts and handed down. */
export interface Services {
  readonly config: Config;
  readonly store: Store;
  readonly provider: Provider;
  readonly directory: Directory;
  readonly hasher: PasswordHasher;
  readonly box: SecretBox;
  readonly log: Logger;
}
