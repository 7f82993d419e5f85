import type { Config } from '../../config/index.js';
import { FederationService } from '../federation/federation-service.js';
import type { Logger } from '../log.js';
import type { Mailer } from '../mail/mailer.js';
import { PasswordHasher } from '../security/password-hasher.js';
import { PasswordThrottle } from '../security/password-throttle.js';
import type { SecretBox } from '../security/secret-box.js';
import { BUILT_IN_CLIENT_IDS } from '../self-service/built-in-clients.js';
import type { Store } from '../store/types.js';
import { AccountLifecycle } from './account-lifecycle.js';
import { FactorReports } from './factor-reports.js';
import { NotMeLinks } from './not-me-links.js';
import { AuditLog } from './audit-log.js';
import { Clients } from './clients.js';
import { Members } from './members.js';
import type { ApplicationMetrics } from './metrics.js';
import { OrganizationSetup } from './organization-setup.js';
import { Organizations } from './organizations.js';
import { MailOutbox } from './outbox.js';
import { PasswordLinks } from './password-links.js';
import { SelfService } from './self-service.js';
import { SecondFactorService } from './second-factors.js';
import { SetupReminders } from './setup-reminders.js';
import { SignIns } from './sign-ins.js';
import { SignOuts } from './sign-outs.js';
import { Site } from './site.js';
import { UserImport } from './user-import.js';
import { Users } from './users.js';

/**
 * The application layer: every use case, with its rules, audit entries and e-mails, in one place.
 * The HTTP app, the admin API and the command line are built on the same instance of it, and none
 * of them reaches the store itself.
 */
export interface Application {
  readonly organizations: Organizations;
  readonly organizationSetup: OrganizationSetup;
  readonly members: Members;
  readonly users: Users;
  readonly clients: Clients;
  readonly site: Site;
  readonly secondFactors: SecondFactorService;
  readonly signIns: SignIns;
  /** Ending sessions, and the logout notices for the applications (the server's worker sends them). */
  readonly signOuts: SignOuts;
  readonly federation: FederationService;
  readonly passwordLinks: PasswordLinks;
  readonly selfService: SelfService;
  readonly userImport: UserImport;
  readonly outbox: MailOutbox;
  readonly setupReminders: SetupReminders;
  readonly factorReports: FactorReports;
}

export interface ApplicationDependencies {
  readonly config: Config;
  readonly store: Store;
  readonly box: SecretBox;
  readonly mailer: Mailer;
  readonly log: Logger;
  readonly metrics: ApplicationMetrics;
}

export function createApplication({ config, store, box, mailer, log, metrics }: ApplicationDependencies): Application {
  const audit = new AuditLog(store);
  const hasher = new PasswordHasher(config.passwordHash);
  const signOuts = new SignOuts(store);
  const secondFactors = new SecondFactorService(store, box, config, mailer, log, audit, metrics, signOuts);
  const federation = new FederationService(store, box, config, audit, log);
  const passwordLinks = new PasswordLinks(store, hasher, mailer, audit, config.issuer, secondFactors, signOuts);
  const organizations = new Organizations(store, audit, mailer, passwordLinks);
  const lifecycle = new AccountLifecycle(store, signOuts, secondFactors, audit, mailer, log);
  const members = new Members(store, organizations, secondFactors, passwordLinks, audit, mailer, config.issuer, lifecycle);
  const signIns = new SignIns(store, hasher, new PasswordThrottle(store.attempts, config.lockout), metrics, secondFactors, signOuts);
  return {
    organizations,
    organizationSetup: new OrganizationSetup(organizations, members),
    members,
    users: new Users(store, organizations, secondFactors, federation, passwordLinks, hasher, audit, lifecycle),
    clients: new Clients(store, box, audit, { production: config.production }, BUILT_IN_CLIENT_IDS),
    site: new Site(store, audit),
    secondFactors,
    signIns,
    signOuts,
    federation,
    passwordLinks,
    selfService: new SelfService(store, signIns, secondFactors, passwordLinks, hasher, mailer, audit),
    userImport: new UserImport(store, hasher, audit),
    outbox: new MailOutbox(store, mailer, audit),
    setupReminders: new SetupReminders(store, secondFactors, mailer, log),
    factorReports: new FactorReports(store, new NotMeLinks(store, config.issuer), secondFactors, signOuts, lifecycle, audit, mailer, log),
  };
}
