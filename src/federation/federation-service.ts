import type { Context } from 'koa';
import * as oidc from 'openid-client';
import type { Config } from '../../config/index.js';
import type { Actor, AuditLog } from '../audit/audit-log.js';
import { isLookupableEmail, normalizeEmail, validateName } from '../directory/validation.js';
import { ConflictError, NotFoundError, UserError, ValidationError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SecretBox } from '../security/secret-box.js';
import { DuplicateError, type Federation, type Organization, type Store, type User } from '../store/types.js';
import { classifyUpstreamError, discover, federationCallbackUrl, federationSecretContext, UpstreamProviders, type UpstreamFailure } from './upstream.js';

export type FederatedOrganization = Organization & { federation: Federation };
export const isFederated = (organization: Organization): organization is FederatedOrganization => organization.federation !== null;

export interface FederationInput {
  readonly issuer: string;
  readonly clientId: string;
  /** Omitted to keep the stored secret when only other settings change. */
  readonly clientSecret?: string;
  readonly domains: readonly string[];
}

/** The upstream sign-in, as it continues in the interaction: who signed in, and how (RFC 8176 `amr`). */
export interface FederatedLogin {
  readonly uid: string;
  readonly accountId: string;
  readonly amr: string[];
  readonly exp: number;
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

const cookieOptions = (ctx: Context, path: string) => ({ signed: true, httpOnly: true, sameSite: 'lax' as const, secure: ctx.secure, path, overwrite: true });
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
function decode<T>(raw: string | undefined): T | null {
  if (!raw) return null;
  try {
    return JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as T;
  } catch {
    return null;
  }
}

/**
 * Organizations federated to their own OpenID provider (SPEC 1.2): their settings, which email goes
 * where (identifier-first), the upstream sign-in with openid-client (PKCE, state, nonce, full ID token
 * validation), and account linking by upstream `sub` — by verified email only the first time, and only
 * to a member of that organization or an address in its domains, so no other provider can take over
 * an account by asserting someone's email.
 */
export class FederationService {
  readonly #upstreams: UpstreamProviders;

  constructor(
    private readonly store: Store,
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

  #validate(organization: Organization, input: FederationInput): Omit<Federation, 'sealedClientSecret'> & { clientSecret?: string } {
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
    const domains = [...new Set(input.domains.map((domain) => domain.trim().toLowerCase()).filter(Boolean))];
    for (const domain of domains) {
      if (!DOMAIN.test(domain)) throw new ValidationError(`"${domain}" is not an email domain.`, 'domains');
    }
    return { issuer: issuer.href.replace(/\/$/, ''), clientId, ...(secret ? { clientSecret: secret } : {}), domains };
  }

  async configure(actor: Actor, organization: Organization, input: FederationInput, ip: string | null): Promise<Organization> {
    const valid = this.#validate(organization, input);
    for (const domain of valid.domains) {
      const owner = await this.store.organizations.findByFederatedDomain(domain);
      if (owner && owner.id !== organization.id) throw new ConflictError(`The domain ${domain} already belongs to another organization.`);
    }
    const federation: Federation = {
      issuer: valid.issuer,
      clientId: valid.clientId,
      sealedClientSecret: valid.clientSecret ? this.box.seal(valid.clientSecret, federationSecretContext(organization.id)) : organization.federation!.sealedClientSecret,
      domains: valid.domains,
    };
    try {
      await this.store.organizations.setFederation(organization.id, federation);
    } catch (error) {
      if (error instanceof DuplicateError) throw new ConflictError('One of these domains already belongs to another organization.');
      throw error;
    }
    await this.audit.record('federation.changed', [organization.id], null, { actor, ip, details: { issuer: federation.issuer, clientId: federation.clientId, domains: federation.domains.join(', ') } });
    this.#anyFederated = undefined;
    return { ...organization, federation };
  }

  async remove(actor: Actor, organization: Organization, ip: string | null): Promise<void> {
    await this.store.organizations.setFederation(organization.id, null);
    this.#anyFederated = undefined;
    await this.audit.record('federation.changed', [organization.id], null, { actor, ip, details: { issuer: null } });
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
   * Where this email signs in: the federated organization it belongs to (as a member, or by its
   * domain), or null for a local password.
   */
  async organizationFor(email: string): Promise<FederatedOrganization | null> {
    const trimmed = email.trim().toLowerCase();
    if (!isLookupableEmail(trimmed)) return null;
    const user = await this.store.users.findByEmail(trimmed);
    if (user) {
      const memberships = await this.store.memberships.listByUser(user.id);
      const federated = (await this.store.organizations.findByIds(memberships.map((membership) => membership.organizationId))).find(isFederated);
      if (federated) return federated;
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
    ctx.cookies.set(PENDING_COOKIE, encode(pending), { ...cookieOptions(ctx, `/federation/${organization.slug}`), maxAge: TEN_MINUTES });
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
    const pending = decode<PendingUpstream>(ctx.cookies.get(PENDING_COOKIE, { signed: true }));
    ctx.cookies.set(PENDING_COOKIE, null, cookieOptions(ctx, `/federation/${slug}`));
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
    const user = await this.#linkedUser(organization, claims);
    const upstreamAmr = Array.isArray(claims.amr) ? claims.amr.filter((value): value is string => typeof value === 'string' && KNOWN_AMR.has(value)) : [];
    const result: FederatedLogin = { uid: pending.uid, accountId: user.id, amr: ['fed', ...new Set(upstreamAmr)], exp: Date.now() + TEN_MINUTES };
    ctx.cookies.set(RESULT_COOKIE, encode(result), { ...cookieOptions(ctx, `/interaction/${pending.uid}`), maxAge: TEN_MINUTES });
    this.log.info('federation: signed in upstream', { organization: slug, userId: user.id });
    return `/interaction/${pending.uid}/federated`;
  }

  /** The signed upstream result for this interaction, used once. */
  takeResult(ctx: Context, uid: string): FederatedLogin | null {
    const result = decode<FederatedLogin>(ctx.cookies.get(RESULT_COOKIE, { signed: true }));
    ctx.cookies.set(RESULT_COOKIE, null, cookieOptions(ctx, `/interaction/${uid}`));
    return result && result.uid === uid && result.exp > Date.now() ? result : null;
  }

  async #linkedUser(organization: FederatedOrganization, claims: oidc.IDToken): Promise<User> {
    const { issuer } = organization.federation;
    const linked = await this.store.identityLinks.findUser(issuer, claims.sub);
    if (linked) {
      const user = await this.store.users.findById(linked);
      if (user) return user;
    }
    const refuse = (why: string): never => {
      this.log.warn('federation: account not linked', { organization: organization.slug, reason: why });
      throw new UserError(`Your account at ${organization.name} could not be matched to an account here (${why}). Ask your organization's owner for help.`, 403);
    };
    if (typeof claims.email !== 'string') refuse('the identity provider did not say which email address you use');
    if (claims.email_verified !== true) refuse('the identity provider has not verified your email address');
    let email: string;
    try {
      email = normalizeEmail(claims.email as string);
    } catch {
      refuse('the email address it sent is not valid');
    }
    const inDomain = organization.federation.domains.includes(email!.split('@')[1]!);
    let user = await this.store.users.findByEmail(email!);
    if (user) {
      const member = await this.store.memberships.find(organization.id, user.id);
      if (!member && !inDomain) refuse(`${email!} is not a member of ${organization.name}`);
    } else {
      if (!inDomain) refuse(`${email!} is not a member of ${organization.name}`);
      const name = typeof claims.name === 'string' ? validateName(claims.name, 'user') : email!.split('@')[0]!;
      user = await this.store.users.create({ email: email!, name, passwordHash: null, siteAdmin: false });
      await this.store.memberships.put(organization.id, user.id, 'member');
      await this.audit.record('member.added', [organization.id], user, { actor: null, details: { via: 'identity provider, first sign-in' } });
    }
    if (!(await this.store.memberships.find(organization.id, user.id))) await this.store.memberships.put(organization.id, user.id, 'member');
    try {
      await this.store.identityLinks.link(issuer, claims.sub, user.id);
    } catch (error) {
      if (error instanceof DuplicateError) refuse(`${email!} is already linked to another account at ${organization.name}`);
      throw error;
    }
    await this.audit.record('federation.linked', [organization.id], user, { actor: null, details: { issuer } });
    return user;
  }
}
