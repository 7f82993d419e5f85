import type Provider from 'oidc-provider';
import type { Config } from '../config/index.js';
import type { AdminService } from './admin/admin-service.js';
import type { AuditLog } from './audit/audit-log.js';
import type { Directory } from './directory/directory.js';
import type { FederationService } from './federation/federation-service.js';
import type { Logger } from './log.js';
import type { Mailer } from './mail/mailer.js';
import type { SecondFactorService } from './mfa/second-factor-service.js';
import type { PasswordHasher } from './security/password-hasher.js';
import type { PasswordThrottle } from './security/password-throttle.js';
import type { SecretBox } from './security/secret-box.js';
import type { Store } from './store/types.js';

/** What the HTTP routes need, built once in app.ts and handed down. */
export interface Services {
  readonly config: Config;
  readonly store: Store;
  readonly provider: Provider;
  readonly directory: Directory;
  readonly hasher: PasswordHasher;
  readonly passwordThrottle: PasswordThrottle;
  readonly secondFactors: SecondFactorService;
  readonly mailer: Mailer;
  readonly audit: AuditLog;
  readonly federation: FederationService;
  readonly admin: AdminService;
  readonly box: SecretBox;
  readonly log: Logger;
}
