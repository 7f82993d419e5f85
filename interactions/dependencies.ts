import type Provider from 'oidc-provider';
import type { Config } from '../config/index.js';
import type { Members } from '../src/application/members.js';
import type { SecondFactorService } from '../src/application/second-factors.js';
import type { SignIns } from '../src/application/sign-ins.js';
import type { FederationService } from '../src/federation/federation-service.js';

/** What the sign-in pages use: oidc-provider for the interaction, and the application layer for the rest. */
export interface InteractionDependencies {
  readonly config: Config;
  readonly provider: Provider;
  readonly signIns: SignIns;
  readonly secondFactors: SecondFactorService;
  readonly federation: FederationService;
  /** Whom to ask when both phone and recovery codes are lost; which organizations require the second factor. */
  readonly members: Pick<Members, 'whomToAsk' | 'enforcingOrganizationNames' | 'organizationNamed'>;
}
