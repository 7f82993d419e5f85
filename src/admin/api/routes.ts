import type { Application } from '../../application/index.js';
import { parseRole, type MemberFilter } from '../../application/members.js';
import { parseTwoFactorMode, TWO_FACTOR_MODES } from '../../application/site.js';
import type { User } from '../../application/types.js';
import { MAX_SECRET_GRACE_HOURS, MAX_URIS, ROLLOUT_MAX_DAYS } from '../../application/validation.js';
import {
  applicationJson, eventJson, memberJson, organizationJson, organizationOverviewJson, policyJson, userJson, userProfileJson,
} from './representations.js';
import { objectSchema, type BodyOf, type ObjectSchema, type StringSchema } from './schema.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call a route, checked before its body is read: the owners of the organization named in the
 * path (and site admins; anyone else gets "not found"), site admins only (anyone else: 403), or
 * anyone with an admin API token (what they see is then theirs).
 */
export type Access = 'organization' | 'site' | 'token';

/** What a handler gets: the token's user, the path's parameters, the query and the checked body. */
export interface ApiCall<B> {
  readonly actor: User;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, unknown>>;
  readonly body: B;
  readonly ip: string;
}

export interface QueryParameter {
  readonly name: string;
  readonly schema: StringSchema;
}

/**
 * One admin API route: the router serves it and the OpenAPI document describes it, both from here.
 * `path` is written as OpenAPI writes it (`/organizations/{slug}`), below /admin/api.
 */
export interface ApiRoute<S extends ObjectSchema = ObjectSchema> {
  readonly method: HttpMethod;
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  readonly access: Access;
  readonly query?: readonly QueryParameter[];
  /** The request body; without it the route takes none (a property sent is refused by name). */
  readonly body?: S;
  readonly status: 200 | 201;
  readonly answers: string;
  handler(call: ApiCall<BodyOf<S>>): Promise<unknown>;
}

/** Keeps each route's handler typed by its own body schema in a table of routes. */
const route = <S extends ObjectSchema>(definition: ApiRoute<S>): ApiRoute => definition as unknown as ApiRoute;

const text = (description: string, maxLength: number, extra: Partial<StringSchema> = {}): StringSchema => ({ type: 'string', description, maxLength, ...extra });
const URI = text('An absolute https URL (http only for localhost outside production); no fragment, no wildcard.', 2000, { format: 'uri' });
const uris = (description: string) => ({ type: 'array' as const, description, items: URI, maxItems: MAX_URIS });
const REASON = text('Why: kept in the audit log and told to the person.', 500);
/** A deletion of an account, by an owner or a site admin: the address typed again, and why. */
const DELETION = objectSchema({ confirmEmail: text('The account\'s email, typed to confirm.', 254), reason: REASON }, ['confirmEmail']);
const PAGE: QueryParameter = { name: 'page', schema: text('The page, from 1; 25 entries a page.', 6) };

/** `?twoFactor=none`: members without a second factor; `?twoFactor=overdue`: those past their deadline. */
const memberFilterOf = (raw: unknown): MemberFilter => (raw === 'none' ? 'without-2fa' : raw === 'overdue' ? 'overdue' : 'all');

/**
 * The admin API (docs/rules.md, "Organization administration" and "The site admins' console"):
 * every route, with who may call it and the body it takes. Handlers only call the application layer.
 */
export function adminApiRoutes(application: Pick<Application, 'organizations' | 'organizationSetup' | 'members' | 'users' | 'clients' | 'site'>): ApiRoute[] {
  const { organizations, organizationSetup, members, users, clients, site } = application;
  return [
    route({
      method: 'GET', path: '/organizations', access: 'token', status: 200,
      summary: 'The organizations you may manage',
      description: 'Those you own; every organization for a site admin.',
      answers: '`{ organizations: [{ slug, name, forceTwoFactor }] }`',
      async handler({ actor }) {
        return { organizations: (await organizations.manageable(actor)).map((org) => ({ slug: org.slug, name: org.name, forceTwoFactor: org.forceTwoFactor })) };
      },
    }),
    route({
      method: 'GET', path: '/organizations/{slug}/policy', access: 'organization', status: 200,
      summary: "An organization's two-factor policy",
      answers: '`{ forceTwoFactor, gracePeriodDays, rememberBrowserDays, applyTo, enforcementStartedAt }`',
      handler: async ({ actor, params }) => policyJson(await organizations.get(actor, params.slug!)),
    }),
    route({
      method: 'PUT', path: '/organizations/{slug}/policy', access: 'organization', status: 200,
      summary: "Change an organization's two-factor policy",
      description: 'Any of the properties; what is left out stays as it is. Every value is checked before anything changes. Switching enforcement on e-mails the members it covers who have no second factor.',
      body: objectSchema({
        forceTwoFactor: { type: 'boolean', description: 'Force Two-Factor Authentication.' },
        gracePeriodDays: { type: 'integer', minimum: 0, maximum: ROLLOUT_MAX_DAYS, description: 'Days a member without a second factor may put setup off.' },
        rememberBrowserDays: { type: 'integer', minimum: 0, maximum: ROLLOUT_MAX_DAYS, description: 'Days a browser may be remembered after a second factor (0: never).' },
        applyTo: text('Whom enforcement covers: all members, or owners only.', 6, { enum: ['all', 'owners'] }),
        requiredFactor: text('Which second factor members must have: any, or a security key or passkey only.', 12, { enum: ['any', 'security-key'] }),
        confirmSetupByEmail: { type: 'boolean', description: 'A first set-up needs a code e-mailed to the member as well.' },
      }),
      answers: 'The policy, and `membersNotified`.',
      async handler({ actor, params, body, ip }) {
        let organization = await organizations.setRollout(actor, params.slug!, {
          gracePeriodDays: body.gracePeriodDays, rememberBrowserDays: body.rememberBrowserDays, applyTo: body.applyTo, requiredFactor: body.requiredFactor, confirmSetupByEmail: body.confirmSetupByEmail,
        }, ip);
        let notified = 0;
        if (body.forceTwoFactor !== undefined) ({ organization, notified } = await organizations.setForceTwoFactor(actor, params.slug!, body.forceTwoFactor, ip));
        return { ...policyJson(organization), membersNotified: notified };
      },
    }),
    route({
      method: 'GET', path: '/organizations/{slug}/members', access: 'organization', status: 200,
      summary: 'Members, with their role and two-factor status',
      query: [{ name: 'twoFactor', schema: text('`none`: only those without a second factor; `overdue`: only those past their setup deadline.', 7, { enum: ['none', 'overdue'] }) }],
      answers: '`{ members: [{ userId, email, name, role, twoFactor: { enrolled, recoveryCodesRemaining, securityKeys, deadline, overdue }, lastSignInAt }] }`',
      handler: async ({ actor, params, query }) => ({ members: (await members.list(actor, params.slug!, memberFilterOf(query.twoFactor))).map(memberJson) }),
    }),
    route({
      method: 'POST', path: '/organizations/{slug}/members', access: 'organization', status: 201,
      summary: 'Add a member by email',
      description: 'An existing account is e-mailed an invitation and joins when it accepts (its id is not shown until then); a new address gets an account and a link to set its password.',
      body: objectSchema({
        email: text('The email address.', 254, { format: 'email' }),
        role: text('owner or member (the default).', 6, { enum: ['owner', 'member'] }),
        name: text('The name of a new account.', 200),
      }, ['email']),
      answers: '`{ email, status: "invited" }`, or `{ userId, email, status: "member", invited }`',
      async handler({ actor, params, body, ip }) {
        const { user, outcome } = await members.add(actor, params.slug!, { email: body.email, role: parseRole(body.role ?? 'member'), ...(body.name ? { name: body.name } : {}) }, ip);
        return outcome === 'invited' ? { email: user.email, status: 'invited' } : { userId: user.id, email: user.email, status: 'member', invited: outcome === 'created' };
      },
    }),
    route({
      method: 'GET', path: '/organizations/{slug}/invitations', access: 'organization', status: 200,
      summary: 'Invitations not yet accepted',
      answers: '`{ invitations: [{ id, email, role, createdAt, expiresAt }] }`',
      handler: async ({ actor, params }) => ({
        invitations: (await members.pendingInvitations(actor, params.slug!)).map((row) => ({
          id: row.invitation.id,
          email: row.email,
          role: row.invitation.role,
          createdAt: row.invitation.createdAt.toISOString(),
          expiresAt: row.invitation.expiresAt.toISOString(),
        })),
      }),
    }),
    route({
      method: 'DELETE', path: '/organizations/{slug}/invitations/{invitationId}', access: 'organization', status: 200,
      summary: 'Withdraw an invitation',
      answers: '`{ withdrawn: true }`',
      async handler({ actor, params, ip }) {
        await members.withdrawInvitation(actor, params.slug!, params.invitationId!, ip);
        return { withdrawn: true };
      },
    }),
    route({
      method: 'DELETE', path: '/organizations/{slug}/members/{userId}', access: 'organization', status: 200,
      summary: 'Remove a member',
      description: 'The account stays, unless `suspendAccount` suspends it too (an account of this organization alone). The last owner cannot be removed.',
      body: objectSchema({ suspendAccount: { type: 'boolean', description: 'Suspend the account too.' }, reason: REASON }),
      answers: '`{ removed: email, suspended }`',
      async handler({ actor, params, body, ip }) {
        const suspendAccount = body.suspendAccount === true;
        const user = await members.remove(actor, params.slug!, params.userId!, ip, suspendAccount ? { suspendAccount: { reason: body.reason } } : {});
        return { removed: user.email, suspended: suspendAccount };
      },
    }),
    ...(['suspend', 'reactivate'] as const).map((action) => route({
      method: 'POST', path: `/organizations/{slug}/members/{userId}/${action}`, access: 'organization', status: 200,
      summary: action === 'suspend' ? "Suspend a member's account" : "Reactivate a member's account",
      description: action === 'suspend'
        ? 'It cannot sign in; every session, grant and token ends, and the applications are told. An owner may do it only for an account of this organization alone.'
        : 'It can sign in again, as it was. An owner may do it only for an account of this organization alone.',
      body: objectSchema({ reason: REASON }),
      answers: '`{ userId, suspended }`',
      async handler({ actor, params, body, ip }) {
        const user = await members[action](actor, params.slug!, params.userId!, body.reason, ip);
        return { userId: user.id, suspended: action === 'suspend' };
      },
    })),
    route({
      method: 'POST', path: '/organizations/{slug}/members/{userId}/delete-account', access: 'organization', status: 200,
      summary: "Delete a member's account and personal data",
      description: 'The audit entries stay, under a pseudonym. `confirmEmail` must be the account\'s address. An owner may do it only for an account of this organization alone.',
      body: DELETION,
      answers: '`{ deleted: email }`',
      async handler({ actor, params, body, ip }) {
        return { deleted: (await members.deleteAccount(actor, params.slug!, params.userId!, { confirmEmail: body.confirmEmail, reason: body.reason }, ip)).email };
      },
    }),
    route({
      method: 'PUT', path: '/organizations/{slug}/members/{userId}/role', access: 'organization', status: 200,
      summary: "Change a member's role",
      body: objectSchema({ role: text('owner or member.', 6, { enum: ['owner', 'member'] }) }, ['role']),
      answers: '`{ userId, role }`',
      async handler({ actor, params, body, ip }) {
        const role = parseRole(body.role);
        return { userId: (await members.setRole(actor, params.slug!, params.userId!, role, ip)).id, role };
      },
    }),
    route({
      method: 'POST', path: '/organizations/{slug}/members/{userId}/disable-2fa', access: 'organization', status: 200,
      summary: "Disable a member's two-factor authentication (a lost device)",
      description: "Deletes the member's factors and recovery codes, ends their sessions and e-mails them. An owner may do it only for an account that belongs to the organization alone.",
      body: objectSchema({ reason: text('Why: kept in the audit log and shown in the e-mail.', 500) }),
      answers: '`{ userId, twoFactor: { enrolled: false } }`',
      async handler({ actor, params, body, ip }) {
        const user = await members.disableTwoFactor(actor, params.slug!, params.userId!, ip, body.reason);
        return { userId: user.id, twoFactor: { enrolled: false } };
      },
    }),
    route({
      method: 'GET', path: '/organizations/{slug}/audit', access: 'organization', status: 200,
      summary: "The organization's audit log, newest first",
      query: [PAGE],
      answers: '`{ events: [{ id, at, action, actor, target, ip, details }], page, pages, total }`',
      async handler({ actor, params, query }) {
        const log = await organizations.auditLog(actor, params.slug!, query.page);
        return { events: log.events.map(eventJson), page: log.page, pages: log.pages, total: log.total };
      },
    }),
    route({
      method: 'GET', path: '/site/two-factor-mode', access: 'site', status: 200,
      summary: 'The site-wide two-factor mode',
      answers: '`{ mode }`',
      handler: async ({ actor }) => ({ mode: await site.twoFactorModeFor(actor) }),
    }),
    route({
      method: 'PUT', path: '/site/two-factor-mode', access: 'site', status: 200,
      summary: 'Set the site-wide two-factor mode',
      body: objectSchema({ mode: text('off, optional or required.', 8, { enum: [...TWO_FACTOR_MODES] }) }, ['mode']),
      answers: '`{ mode }`',
      async handler({ actor, body, ip }) {
        const mode = parseTwoFactorMode(body.mode);
        await site.setTwoFactorMode(actor, mode, ip);
        return { mode };
      },
    }),

    // The site admins' console.
    route({
      method: 'GET', path: '/site/organizations', access: 'site', status: 200,
      summary: 'Every organization, with its members and adoption',
      answers: '`{ organizations: [{ slug, name, forceTwoFactor, federated, createdAt, members, owners, adoption: { covers, total, enrolled } }] }`',
      handler: async ({ actor }) => ({ organizations: (await organizations.overview(actor)).map(organizationOverviewJson) }),
    }),
    route({
      method: 'POST', path: '/site/organizations', access: 'site', status: 201,
      summary: 'Create an organization, with its first owner',
      description: 'The first owner, when given, is added as an owner adds members: an existing account is e-mailed an invitation it accepts signed in; a new address gets an account and a single-use link to set its password.',
      body: objectSchema({
        slug: text('1 to 63 lower-case letters, digits and inner dashes; unique; used in addresses.', 63),
        name: text('The name people see, 1 to 200 characters.', 200),
        ownerEmail: text("The first owner's email address.", 254, { format: 'email' }),
      }, ['slug', 'name']),
      answers: '`{ organization: { slug, name, … }, owner: { email, status: "invited" | "created" | "added" } | null }`',
      async handler({ actor, body, ip }) {
        const { organization, owner } = await organizationSetup.create(actor, body, ip);
        return {
          organization: organizationJson(organization),
          owner: owner && { email: owner.user.email, status: owner.outcome === 'invited' ? 'invited' : owner.outcome === 'created' ? 'created' : 'added' },
        };
      },
    }),
    route({
      method: 'PATCH', path: '/site/organizations/{slug}', access: 'site', status: 200,
      summary: 'Rename an organization',
      body: objectSchema({ name: text('The new name, 1 to 200 characters.', 200) }, ['name']),
      answers: 'The organization.',
      handler: async ({ actor, params, body, ip }) => organizationJson(await organizations.rename(actor, params.slug!, body.name, ip)),
    }),
    route({
      method: 'DELETE', path: '/site/organizations/{slug}', access: 'site', status: 200,
      summary: 'Delete an organization',
      description: "Its members keep their accounts; accounts its identity provider managed are e-mailed a link to set a password here. Its audit log is kept until AUDIT_RETENTION_DAYS. `confirm` must repeat the slug.",
      body: objectSchema({ confirm: text('The slug again, to confirm.', 63) }, ['confirm']),
      answers: '`{ deleted: slug, members, managedAccounts }`',
      async handler({ actor, params, body, ip }) {
        const { organization, members: count, managedAccounts } = await organizations.delete(actor, params.slug!, body.confirm, ip);
        return { deleted: organization.slug, members: count, managedAccounts };
      },
    }),
    route({
      method: 'GET', path: '/site/applications', access: 'site', status: 200,
      summary: 'Every registered application (relying party)',
      answers: '`{ applications: [{ clientId, name, type, firstParty, redirectUris, postLogoutRedirectUris, backchannelLogoutUri, previousSecretExpiresAt, createdAt }] }`',
      handler: async ({ actor }) => ({ applications: (await clients.list(actor)).map(applicationJson) }),
    }),
    route({
      method: 'POST', path: '/site/applications', access: 'site', status: 201,
      summary: 'Register an application',
      description: 'A confidential application (the default) gets a client secret made by Twofold: it is in this answer only, and stored sealed. A public one (in a browser or on a device) has none and uses PKCE alone.',
      body: objectSchema({
        name: text('The name people see on the consent page, 1 to 200 characters.', 200),
        clientId: text('1 to 128 letters, digits, dots, underscores, tildes and dashes; made from the name when left out.', 128),
        redirectUris: uris('Where the application receives the sign-in (at least one).'),
        postLogoutRedirectUris: uris('Where people may be sent back after signing out.'),
        backchannelLogoutUri: { ...URI, description: 'Where OpenID Connect Back-Channel Logout tokens are posted.' },
        confidential: { type: 'boolean', description: 'Whether it keeps a client secret (default true).' },
        firstParty: { type: 'boolean', description: 'First-party applications skip the consent page (default false).' },
      }, ['name', 'redirectUris']),
      answers: '`{ application: { clientId, … }, clientSecret }` — the secret, this once (null for a public application).',
      async handler({ actor, body, ip }) {
        const { client, secret } = await clients.create(actor, { ...body, confidential: body.confidential ?? true }, ip);
        return { application: applicationJson(client), clientSecret: secret };
      },
    }),
    route({
      method: 'GET', path: '/site/applications/{clientId}', access: 'site', status: 200,
      summary: 'One application',
      answers: 'The application.',
      handler: async ({ actor, params }) => applicationJson(await clients.get(actor, params.clientId!)),
    }),
    route({
      method: 'POST', path: '/site/applications/{clientId}/rotate-secret', access: 'site', status: 200,
      summary: "Rotate an application's client secret",
      description: 'A new secret, in this answer only. The old one keeps working for `graceHours` (default 0: it stops at once).',
      body: objectSchema({ graceHours: { type: 'integer', minimum: 0, maximum: MAX_SECRET_GRACE_HOURS, description: 'Hours the old secret keeps working.' } }),
      answers: '`{ application, clientSecret, previousSecretExpiresAt }`',
      async handler({ actor, params, body, ip }) {
        const { client, secret, previousSecretExpiresAt } = await clients.rotateSecret(actor, params.clientId!, body.graceHours, ip);
        return { application: applicationJson(client), clientSecret: secret, previousSecretExpiresAt: previousSecretExpiresAt?.toISOString() ?? null };
      },
    }),
    route({
      method: 'DELETE', path: '/site/applications/{clientId}', access: 'site', status: 200,
      summary: 'Delete an application',
      description: 'Everything issued to it — grants, codes, access and refresh tokens — is revoked.',
      answers: '`{ deleted: clientId, revoked }`',
      async handler({ actor, params, ip }) {
        const { client, revoked } = await clients.delete(actor, params.clientId!, ip);
        return { deleted: client.clientId, revoked };
      },
    }),
    route({
      method: 'GET', path: '/site/users', access: 'site', status: 200,
      summary: 'Search users by email or name, across the site',
      query: [{ name: 'q', schema: text('Text the email or name contains; leave out to list everyone.', 254) }, PAGE],
      answers: '`{ users: [{ id, email, name, siteAdmin, status, organizations, factors: { app, securityKeys, recoveryCodesRemaining }, lastSignInAt }], page, pages, total }`',
      async handler({ actor, query }) {
        const found = await users.search(actor, query.q, query.page);
        return { users: found.rows.map(userJson), page: found.page, pages: found.pages, total: found.total };
      },
    }),
    route({
      method: 'GET', path: '/site/users/{userId}', access: 'site', status: 200,
      summary: "One user's profile",
      answers: '`{ id, email, name, siteAdmin, status, organizations, managedBy, twoFactor, lastSignInAt, createdAt }`',
      handler: async ({ actor, params }) => userProfileJson(await users.profile(actor, params.userId!)),
    }),
    ...(['suspend', 'reactivate'] as const).map((action) => route({
      method: 'POST', path: `/site/users/{userId}/${action}`, access: 'site', status: 200,
      summary: action === 'suspend' ? "Suspend anyone's account" : "Reactivate anyone's account",
      description: action === 'suspend' ? 'Never the last active site admin.' : undefined,
      body: objectSchema({ reason: REASON }),
      answers: '`{ userId, suspended }`',
      async handler({ actor, params, body, ip }) {
        const user = await users[action](actor, params.userId!, body.reason, ip);
        return { userId: user.id, suspended: action === 'suspend' };
      },
    })),
    route({
      method: 'POST', path: '/site/users/{userId}/delete', access: 'site', status: 200,
      summary: "Delete anyone's account and personal data",
      description: 'The audit entries stay, under a pseudonym. `confirmEmail` must be the account\'s address. Never the last active site admin.',
      body: DELETION,
      answers: '`{ deleted: email }`',
      async handler({ actor, params, body, ip }) {
        return { deleted: (await users.delete(actor, params.userId!, { confirmEmail: body.confirmEmail, reason: body.reason }, ip)).email };
      },
    }),
  ];
}
