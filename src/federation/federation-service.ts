import type { Context } from 'koa';
import * as oidc from 'openid-client';
import type { Config } from '../../config/index.js';
import { isActive, SUSPENDED_SENTENCE } from '../application/account-status.js';
import type { Actor } from '../application/actor.js';
import type { AuditLog } from '../application/audit-log.js';
import { isLookupableEmail, isSlug, normalizeEmail, validateName } from '../application/validation.js';
import { clearSignedJson, readSignedJson, writeSignedJson } from '../http/signed-cookie.js';
import { ConflictError, ForbiddenError, NotFoundError, UserError, ValidationError } from '../errors.js';
import type { Logger } from '../log.js';
import { ACR } from '../policy/acr.js';
import { upstreamReachesTwoFactor } from '../policy/second-factor.js';
import type { SecretBox } from '../security/secret-box.js';
import { DuplicateError, type Federation, type Organization, type Store, type User } from '../store/types.js';
import { classifyUpstreamError, discover, federationCallbackUrl, federationSecretContext, UpstreamProviders, type UpstreamFailure } from './upstream.js';

export type FederatedOrganization = Organization & { federation: Federation };
export const isFederated = (organization: Organization): organization is FederatedOrganization => organization.federation !== null;


/** What an owner may set: the provider itself. Domains and trust are a site admin's (docs/security-model.md). */
export interface FederationInput {
  readonly issuer: string;
  readonly clientId: string;
  /** Omitted to keep the stored secret when only other settings change. */
  readonly clientSecret?: string;
}

/** The upstream sign-in, as it continues in the interaction: who signed in, how (RFC 8176 `amr`), and the level reached. */
export interface FederatedLogin {
  readonly uid: string;
  readonly accountId: string;
  readonly amr: string[];
  readonly acr: string;
  readonly exp: number;
}

/** Accounts outside an organization that use one of the email domains about to be assigned to it. */
export interface DomainPreview {
  readonly domain: string;
  readonly outside: readonly User[];
  readonly outsideTotal: number;
}

interface PendingUpstream {
  readonly uid: string;
  readonly slug: string;
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string;
}

const PENDING_COOKIE = 'twofold.federation';
const RESULT_COOKIE = 'twofold.federated';
const TEN_MINUTES = 10 * 60 * 1000;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const PREVIEW_LIMIT = 20;
/** How many accounts at one domain the preview looks at; more than this many is reported as this many. */
const PREVIEW_SCAN_LIMIT = 100_000;

/** RFC 8176 values Twofold passes on from upstream ID tokens (anything else is dropped). */
const KNOWN_AMR = new Set(['face', 'fpt', 'geo', 'hwk', 'iris', 'kba', 'mca', 'mfa', 'otp', 'pin', 'pop', 'pwd', 'rba', 'retina', 'sc', 'sms', 'swk', 'tel', 'user', 'vbm', 'wia']);

const FAILURES: Record<UpstreamFailure, (name: string) => [string, number]> = {
  cancelled: (name) => [`You cancelled signing in at ${name}. Go back to the application and sign in again when you are ready.`, 400],
  refused: (name) => [`${name}'s sign-in service did not sign you in. Go back to the application and try again.`, 400],
  misconfigured: (name) => [`${name}'s sign-in service does not accept this site's credentials, so you cannot sign in right now. Please tell your organization's owner.`, 502],
  unverifiable: (name) => [`The answer from ${name}'s sign-in service could not be verified, so you were not signed in. Go back to the application and try again.`, 502],
  unmatched: () => ['This sign-in could not be matched to one you started here. Go back to the application and sign in again.', 400],
  unreachable: (name) => [`${name}'s sign-in service cannot be reached right now. Try again in a few minutes; if it keeps failing, tell your organization's owner.`, 502],
};


/**
 * Organizations federated to their own OpenID provider (docs/security-model.md): their settings, which
 * email goes where (identifier-first), the upstream sign-in with openid-client (PKCE, state, nonce,
 * full ID token validation), and the accounts each provider manages. A provider is an owner's to
 * configure, so it only ever reaches accounts its organization manages: accounts it created (a first
 * sign-in with an address in a domain a site admin assigned) or that a site admin or the operator
 * handed to it. It never reaches an account because an owner added it or because a token asserts
 * its email, and its `amr` never stands in for Twofold's own second factor unless a site admin
 * trusts it for that.
 */
/** openid-client's reason, in a few words a person can act on. */
function describeDiscoveryFailure(error: unknown): string {
  const { code } = error as { code?: string };
  // The network's reason sits one or two causes down (fetch's own error, sometimes wrapped by openid-client).
  const causes: Array<{ code?: string; name?: string }> = [];
  for (let cause = error as { cause?: unknown } | undefined; cause && causes.length < 4; cause = cause.cause as { cause?: unknown } | undefined) causes.push(cause as { code?: string; name?: string });
  if (causes.some((cause) => cause.code === 'ECONNREFUSED' || cause.code === 'ENOTFOUND' || cause.code === 'EAI_AGAIN')) return 'it could not be reached';
  if (causes.some((cause) => cause.name === 'TimeoutError' || cause.name === 'AbortError')) return 'it did not answer in time';
  if (code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' || code === 'OAUTH_INVALID_RESPONSE') return 'its answer is not a discovery document for that issuer';
  return (error as Error).message;
}

export class FederationService {
  readonly #upstreams: UpstreamProviders;

  constructor(
    private readonly store: Pick<Store, 'users' | 'organizations' | 'memberships' | 'identityLinks'>,
    private readonly box: SecretBox,
    private readonly config: Config,
    private readonly audit: AuditLog,
    private readonly log: Logger,
  ) {
    this.#upstreams = new UpstreamProviders(box);
  }

  #anyFederated: { at: number; value: Promise<boolean> } | undefined;

  /** Whether any organization signs in elsewhere (the sign-in page then says so); cached for a minute. */
  anyFederated(): Promise<boolean> {
    if (!this.#anyFederated || Date.now() - this.#anyFederated.at > 60_000) {
      this.#anyFederated = { at: Date.now(), value: this.store.organizations.list().then((organizations) => organizations.some(isFederated)) };
    }
    return this.#anyFederated.value;
  }

  callbackUrl(slug: string): string {
    return federationCallbackUrl(this.config.issuer, slug);
  }

  #validate(organization: Organization, input: FederationInput): { issuer: string; clientId: string; clientSecret?: string } {
    let issuer: URL;
    try {
      issuer = new URL(input.issuer.trim());
    } catch {
      throw new ValidationError(`"${input.issuer}" is not a URL.`, 'issuer');
    }
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
    if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && loopback && !this.config.production)) {
      throw new ValidationError('The issuer must be an https URL.', 'issuer');
    }
    if (issuer.search || issuer.hash) throw new ValidationError('The issuer must not have a query or fragment.', 'issuer');
    const clientId = input.clientId.trim();
    if (!clientId || clientId.length > 255 || /\p{Cc}/u.test(clientId)) throw new ValidationError('Enter the client id the identity provider gave you.', 'clientId');
    const secret = input.clientSecret?.trim();
    if (secret !== undefined && secret !== '' && (secret.length > 1024 || /\p{Cc}/u.test(secret))) throw new ValidationError('The client secret is not valid.', 'clientSecret');
    if (!secret && !organization.federation) throw new ValidationError('Enter the client secret the identity provider gave you.', 'clientSecret');
    return { issuer: issuer.href.replace(/\/$/, ''), clientId, ...(secret ? { clientSecret: secret } : {}) };
  }

  /**
   * Saves the organization's provider — once its discovery document answers as the issuer typed, so a
   * mistyped or unreachable provider is refused with the reason instead of sending members to a dead
   * end. Domains a site admin assigned are kept; trust for two-factor is kept only while the issuer
   * stays the same (it was given to that provider, not to the setting). The operator may save without
   * the check (`unchecked`), e.g. before the provider can be reached from the server.
   */
  async configure(actor: Actor, organization: Organization, input: FederationInput, ip: string | null, { unchecked = false } = {}): Promise<FederatedOrganization> {
    const valid = this.#validate(organization, input);
    const before = organization.federation;
    if (!(unchecked && actor === null)) {
      const secret = valid.clientSecret ?? this.box.open(before!.sealedClientSecret, federationSecretContext(organization.id));
      await this.#check(valid.issuer, valid.clientId, secret);
    }
    const federation: Federation = {
      issuer: valid.issuer,
      clientId: valid.clientId,
      sealedClientSecret: valid.clientSecret ? this.box.seal(valid.clientSecret, federationSecretContext(organization.id)) : before!.sealedClientSecret,
      domains: before?.domains ?? [],
      trustedForTwoFactor: before !== null && before.issuer === valid.issuer && before.trustedForTwoFactor,
    };
    await this.#save(organization, federation);
    await this.audit.record('federation.changed', [organization.id], null, {
      actor,
      ip,
      details: { issuer: federation.issuer, clientId: federation.clientId, ...(before?.trustedForTwoFactor && !federation.trustedForTwoFactor ? { trustedForTwoFactor: false } : {}) },
    });
    return { ...organization, federation };
  }

  /** Fetches the provider's discovery document the way a sign-in will; a refusal says what went wrong. */
  async #check(issuer: string, clientId: string, clientSecret: string): Promise<void> {
    let answered: string;
    try {
      answered = (await discover(issuer, clientId, clientSecret)).serverMetadata().issuer;
    } catch (error) {
      this.log.info('federation: identity provider refused at save', { issuer, error: (error as Error).message });
      throw new UserError(`Nothing was saved: ${issuer} did not answer as an OpenID Connect provider (${describeDiscoveryFailure(error)}). Check the issuer URL your identity provider gives, and that it can be reached from this site.`, 400);
    }
    if (answered.replace(/\/$/, '') !== issuer) {
      throw new UserError(`Nothing was saved: the provider at ${issuer} calls itself ${answered}. Use exactly the issuer it gives.`, 400);
    }
  }

  async #save(organization: Organization, federation: Federation | null): Promise<void> {
    try {
      await this.store.organizations.setFederation(organization.id, federation);
    } catch (error) {
      if (error instanceof DuplicateError) throw new ConflictError('One of these domains already belongs to another organization.');
      throw error;
    }
    this.#anyFederated = undefined;
  }

  async remove(actor: Actor, organization: Organization, ip: string | null): Promise<void> {
    await this.#save(organization, null);
    await this.audit.record('federation.changed', [organization.id], null, { actor, ip, details: { issuer: null } });
  }

  /** Site admins and the operator only; an owner's attempt is refused and recorded. */
  async #requireSiteAdmin(actor: Actor, organization: Organization, attempted: string, ip: string | null): Promise<void> {
    if (actor === null || actor.siteAdmin) return;
    await this.audit.record('action.refused', [organization.id], null, { actor, ip, details: { attempted, reason: 'site admins only' } });
    throw new ForbiddenError('Only a site admin can do this: ask a site admin of this site.');
  }

  #validDomains(raw: readonly string[]): string[] {
    const domains = [...new Set(raw.map((domain) => domain.trim().toLowerCase()).filter(Boolean))];
    for (const domain of domains) {
      if (!DOMAIN.test(domain)) throw new ValidationError(`"${domain}" is not an email domain.`, 'domains');
    }
    return domains;
  }

  /** What assigning these domains would touch: accounts outside the organization at each domain (they stay as they are). */
  async previewDomains(actor: Actor, organization: Organization, raw: readonly string[], ip: string | null): Promise<DomainPreview[]> {
    await this.#requireSiteAdmin(actor, organization, 'federation.domains', ip);
    const domains = this.#validDomains(raw);
    const members = new Set((await this.store.memberships.listByOrganization(organization.id)).map((membership) => membership.userId));
    return Promise.all(domains.map(async (domain) => {
      const { users } = await this.store.users.listByEmailDomain(domain, PREVIEW_SCAN_LIMIT);
      const outside = users.filter((user) => !members.has(user.id));
      return { domain, outside: outside.slice(0, PREVIEW_LIMIT), outsideTotal: outside.length };
    }));
  }

  /**
   * Assigns email domains to a federated organization: new addresses there get an account managed by
   * its provider at their first sign-in. Existing accounts are not moved.
   */
  async assignDomains(actor: Actor, organization: Organization, raw: readonly string[], ip: string | null): Promise<FederatedOrganization> {
    await this.#requireSiteAdmin(actor, organization, 'federation.domains', ip);
    if (!isFederated(organization)) throw new ValidationError('Save the identity provider first: domains send new addresses to it.', 'domains');
    const domains = this.#validDomains(raw);
    for (const domain of domains) {
      const holder = await this.store.organizations.findByFederatedDomain(domain);
      if (holder && holder.id !== organization.id) throw new ConflictError(`The domain ${domain} already belongs to another organization.`);
    }
    const federation = { ...organization.federation, domains };
    await this.#save(organization, federation);
    await this.audit.record('federation.domains_changed', [organization.id], null, {
      actor,
      ip,
      details: { before: organization.federation.domains.join(', '), after: domains.join(', ') },
    });
    return { ...organization, federation };
  }

  /** Lets the provider's own second factor count as Twofold's (never for site admins), or stops it. */
  async setTrustedForTwoFactor(actor: Actor, organization: Organization, trusted: boolean, ip: string | null): Promise<FederatedOrganization> {
    await this.#requireSiteAdmin(actor, organization, 'federation.trust', ip);
    if (!isFederated(organization)) throw new ValidationError('Save the identity provider first.', 'trustedForTwoFactor');
    const federation = { ...organization.federation, trustedForTwoFactor: trusted };
    await this.#save(organization, federation);
    await this.audit.record('federation.trust_changed', [organization.id], null, { actor, ip, details: { issuer: federation.issuer, trustedForTwoFactor: trusted } });
    return { ...organization, federation };
  }

  /**
   * Hands an account to its organization's provider (it then signs in there and loses its password
   * here), or back to a password here (`organization` null; the caller sends a link to set one). A
   * site admin's or the operator's decision, never an owner's; a site admin's account stays local.
   */
  async setManagedBy(actor: Actor, user: User, organization: Organization | null, ip: string | null): Promise<void> {
    if (actor !== null && !actor.siteAdmin) throw new ForbiddenError('Only a site admin can do this: ask a site admin of this site.');
    if (organization) {
      if (user.siteAdmin) throw new ForbiddenError(`${user.email} is a site admin; a site admin's account always signs in here.`);
      if ((await this.store.memberships.listByUser(user.id)).some((membership) => membership.role === 'owner')) {
        throw new ForbiddenError(`${user.email} is an owner; owners always sign in here, so that no identity provider can lock them out.`);
      }
      if (!isFederated(organization)) throw new ValidationError(`${organization.name} has no identity provider.`);
      if (!(await this.store.memberships.find(organization.id, user.id))) throw new ValidationError(`${user.email} is not a member of ${organization.name}.`);
    }
    await this.store.users.setManagedBy(user.id, organization?.id ?? null);
    await this.audit.recordForUser('account.managed_by_changed', user, { actor, ip, details: { organization: organization?.slug ?? null } });
  }

  /** "Test connection": fetches the discovery document the way a sign-in will. */
  async testConnection(organization: Organization): Promise<string> {
    if (!isFederated(organization)) throw new ValidationError('Save the identity provider settings first.');
    try {
      const configuration = await discover(organization.federation.issuer, organization.federation.clientId, this.box.open(organization.federation.sealedClientSecret, federationSecretContext(organization.id)));
      const metadata = configuration.serverMetadata();
      return `Connected: ${metadata.issuer} answers, with an authorization endpoint at ${metadata.authorization_endpoint}.`;
    } catch (error) {
      throw new UserError(`The identity provider could not be reached or did not answer as an OpenID provider: ${(error as Error).message}`, 502);
    }
  }

  /**
   * Where this email signs in: at the provider of the organization that manages its account, or — for
   * an address with no account — of the federated organization a site admin assigned its domain to.
   * Null for a password here. Membership alone never sends an account away.
   */
  async organizationFor(email: string): Promise<FederatedOrganization | null> {
    const trimmed = email.trim().toLowerCase();
    if (!isLookupableEmail(trimmed)) return null;
    const user = await this.store.users.findByEmail(trimmed);
    if (user) {
      const manager = user.managedBy ? await this.store.organizations.findById(user.managedBy) : null;
      return manager && isFederated(manager) ? manager : null;
    }
    const domain = trimmed.split('@')[1];
    const byDomain = domain ? await this.store.organizations.findByFederatedDomain(domain) : null;
    return byDomain && isFederated(byDomain) ? byDomain : null;
  }

  /** Starts the upstream sign-in for interaction `uid`; returns where to send the browser. */
  async start(ctx: Context, uid: string, organization: FederatedOrganization, email: string): Promise<string> {
    let configuration: oidc.Configuration;
    try {
      configuration = await this.#upstreams.configuration(organization);
    } catch (error) {
      this.log.warn('federation: identity provider unreachable', { organization: organization.slug, issuer: organization.federation.issuer, error: (error as Error).message });
      const [message, status] = FAILURES.unreachable(organization.name);
      throw new UserError(message, status);
    }
    const pending: PendingUpstream = { uid, slug: organization.slug, verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
    writeSignedJson(ctx, PENDING_COOKIE, pending, { path: `/federation/${organization.slug}`, maxAgeMs: TEN_MINUTES });
    return oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.callbackUrl(organization.slug),
      scope: 'openid email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
      login_hint: email.trim(),
    }).href;
  }

  #fail(organization: Organization | null, kind: UpstreamFailure, detail: Record<string, unknown> = {}): never {
    this.log.warn(`federation: sign-in failed (${kind})`, { organization: organization?.slug, ...detail });
    const [message, status] = FAILURES[kind](organization?.name ?? 'Your organization');
    throw new UserError(message, status);
  }

  /**
   * The upstream sends the browser back here. Everything is checked before anything is changed; the
   * result is kept in a signed cookie scoped to the interaction, which finishes the sign-in.
   */
  async callback(ctx: Context, slug: string): Promise<string> {
    // The slug names a cookie path below, so nothing but a well-formed slug goes further.
    if (!isSlug(slug)) throw new NotFoundError('There is no such organization sign-in.');
    const pending = readSignedJson<PendingUpstream>(ctx, PENDING_COOKIE);
    clearSignedJson(ctx, PENDING_COOKIE, `/federation/${slug}`);
    const organization = await this.store.organizations.findBySlug(slug);
    if (!organization || !isFederated(organization)) throw new NotFoundError('There is no such organization sign-in.');
    if (!pending || pending.slug !== slug) this.#fail(organization, 'unmatched');

    let configuration: oidc.Configuration;
    try {
      configuration = await this.#upstreams.configuration(organization);
    } catch (error) {
      this.#fail(organization, 'unreachable', { error: (error as Error).message });
    }
    let claims: oidc.IDToken;
    try {
      const tokens = await oidc.authorizationCodeGrant(configuration, new URL(ctx.originalUrl, this.config.issuer), {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims()!;
    } catch (error) {
      const kind = classifyUpstreamError(error);
      this.#fail(organization, kind, { error: (error as Error).message, ...(kind === 'misconfigured' ? { fix: 'check the organization\'s identity provider client id and secret' } : {}) });
    }
    const user = await this.#managedUser(organization, claims, ctx.ip);
    const upstreamAmr = [...new Set(Array.isArray(claims.amr) ? claims.amr.filter((value): value is string => typeof value === 'string' && KNOWN_AMR.has(value)) : [])];
    const reachedTwoFactor = upstreamReachesTwoFactor(upstreamAmr, organization.federation.trustedForTwoFactor, user.siteAdmin);
    const result: FederatedLogin = {
      uid: pending.uid,
      accountId: user.id,
      amr: ['fed', ...upstreamAmr],
      acr: reachedTwoFactor ? ACR.twoFactor : ACR.password,
      exp: Date.now() + TEN_MINUTES,
    };
    writeSignedJson(ctx, RESULT_COOKIE, result, { path: `/interaction/${pending.uid}`, maxAgeMs: TEN_MINUTES });
    this.log.info('federation: signed in upstream', { organization: slug, userId: user.id });
    return `/interaction/${pending.uid}/federated`;
  }

  /** The signed upstream result for this interaction, used once. */
  takeResult(ctx: Context, uid: string): FederatedLogin | null {
    const result = readSignedJson<FederatedLogin>(ctx, RESULT_COOKIE);
    clearSignedJson(ctx, RESULT_COOKIE, `/interaction/${uid}`);
    return result && result.uid === uid && result.exp > Date.now() && typeof result.acr === 'string' ? result : null;
  }

  /**
   * The account the upstream sign-in is for: one this organization manages, found by the upstream
   * subject it was linked to, or — the first time — by the verified email; or a new one, for an
   * address in the organization's domains. Anything else is refused and recorded where the account's
   * own organizations (or site admins) see it, with the same sentence whether or not it exists.
   */
  async #managedUser(organization: FederatedOrganization, claims: oidc.IDToken, ip: string): Promise<User> {
    const { issuer } = organization.federation;
    const refuse = async (why: string, target?: User): Promise<never> => {
      this.log.warn('federation: account not linked', { organization: organization.slug, reason: why });
      if (target) {
        await this.audit.recordForUser('federation.link_refused', target, { actor: null, ip, details: { organization: organization.slug, issuer, reason: why } });
      }
      await this.audit.record('federation.link_refused', [organization.id], null, { actor: null, ip, details: { issuer, reason: why } });
      throw new UserError(`Your account at ${organization.name} could not be matched to an account here. Ask your organization's owner for help.`, 403);
    };

    const linkedId = await this.store.identityLinks.findUser(issuer, claims.sub);
    const linked = linkedId ? await this.store.users.findById(linkedId) : null;
    if (linked) {
      if (linked.managedBy !== organization.id) return refuse('the linked account is not managed by this organization\'s identity provider', linked);
      return this.#ensureMember(organization, linked);
    }

    if (typeof claims.email !== 'string') return refuse('the identity provider did not say which email address is used');
    if (claims.email_verified !== true) return refuse('the identity provider has not verified the email address');
    let email: string;
    try {
      email = normalizeEmail(claims.email);
    } catch {
      return refuse('the email address it sent is not valid');
    }
    let user = await this.store.users.findByEmail(email);
    if (user) {
      if (user.managedBy !== organization.id) return refuse('an account with that email signs in here, not at this organization\'s identity provider', user);
    } else {
      if (!organization.federation.domains.includes(email.split('@')[1]!)) return refuse('the email address is not in a domain assigned to this organization');
      const name = typeof claims.name === 'string' ? validateName(claims.name, 'user') : email.split('@')[0]!;
      user = await this.store.users.create({ email, name, passwordHash: null, siteAdmin: false, managedBy: organization.id });
      await this.store.memberships.put(organization.id, user.id, 'member');
      await this.audit.record('member.added', [organization.id], user, { actor: null, ip, details: { via: 'identity provider, first sign-in' } });
    }
    try {
      await this.store.identityLinks.link(issuer, claims.sub, user.id);
    } catch (error) {
      if (error instanceof DuplicateError) return refuse('the account is already linked to another subject at this identity provider', user);
      throw error;
    }
    await this.audit.record('federation.linked', [organization.id], user, { actor: null, ip, details: { issuer } });
    return this.#ensureMember(organization, user);
  }

  /**
   * A managed account always belongs to its organization (an owner who removed it cannot orphan it) —
   * unless it is suspended: then the upstream sign-in is refused, and nothing changes.
   */
  async #ensureMember(organization: Organization, user: User): Promise<User> {
    if (!isActive(user)) {
      this.log.warn('federation: a suspended account signed in upstream; refused', { organization: organization.slug, userId: user.id });
      throw new UserError(SUSPENDED_SENTENCE, 403);
    }
    if (!(await this.store.memberships.find(organization.id, user.id))) {
      await this.store.memberships.put(organization.id, user.id, 'member');
      await this.audit.record('member.added', [organization.id], user, { actor: null, details: { via: 'identity provider sign-in of a managed account' } });
    }
    return user;
  }
}
