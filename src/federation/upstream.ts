import crypto from 'node:crypto';
import * as oidc from 'openid-client';
import type { SecretBox } from '../security/secret-box.js';
import type { Federation, Organization } from '../store/types.js';

export const federationSecretContext = (organizationId: string) => `federation-secret:${organizationId}`;
export const federationCallbackUrl = (issuer: string, slug: string) => `${issuer}/federation/${slug}/callback`;

const DISCOVERY_TIMEOUT_MS = 5_000;
const CACHE_MS = 10 * 60 * 1000;

/**
 * openid-client configurations for organizations' identity providers, discovered once and kept for
 * ten minutes (keyed by the settings, so a change takes effect at once). Plain-http issuers are only
 * accepted for loopback addresses outside production (validation refuses them otherwise).
 */
export class UpstreamProviders {
  readonly #cache = new Map<string, { at: number; configuration: Promise<oidc.Configuration> }>();

  constructor(private readonly box: SecretBox) {}

  configuration(organization: Organization & { federation: Federation }): Promise<oidc.Configuration> {
    const { federation } = organization;
    const key = crypto.createHash('sha256').update(JSON.stringify([organization.id, federation])).digest('hex');
    const cached = this.#cache.get(key);
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.configuration;
    const configuration = discover(federation.issuer, federation.clientId, this.box.open(federation.sealedClientSecret, federationSecretContext(organization.id)));
    this.#cache.set(key, { at: Date.now(), configuration });
    configuration.catch(() => this.#cache.delete(key));
    return configuration;
  }
}

/**
 * Discovery, with ID token signatures always verified against the provider's JWKS: openid-client
 * would otherwise trust a token endpoint's ID token on the strength of TLS alone (OIDC Core
 * §3.1.3.7 allows it), and Twofold promises the upstream token is validated fully.
 */
export function discover(issuer: string, clientId: string, clientSecret: string): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuer), clientId, clientSecret, oidc.ClientSecretBasic(clientSecret), {
    execute: [...(new URL(issuer).protocol === 'http:' ? [oidc.allowInsecureRequests] : []), oidc.enableNonRepudiationChecks],
    timeout: DISCOVERY_TIMEOUT_MS / 1000,
  });
}

export type UpstreamFailure = 'cancelled' | 'refused' | 'misconfigured' | 'unverifiable' | 'unmatched' | 'unreachable';

/** What went wrong, from openid-client's error, in the few kinds the failure page explains. */
export function classifyUpstreamError(error: unknown): UpstreamFailure {
  if (error instanceof oidc.AuthorizationResponseError) return error.error === 'access_denied' ? 'cancelled' : 'refused';
  if (error instanceof oidc.WWWAuthenticateChallengeError) return 'misconfigured';
  if (error instanceof oidc.ResponseBodyError) return error.error === 'invalid_client' || error.error === 'unauthorized_client' ? 'misconfigured' : 'refused';
  const { code, cause } = error as { code?: string; cause?: { message?: string } };
  if (code === 'OAUTH_INVALID_RESPONSE' && /"state"/.test(cause?.message ?? '')) return 'unmatched';
  if (typeof code === 'string' && code.startsWith('OAUTH_')) return 'unverifiable';
  return 'unreachable';
}
