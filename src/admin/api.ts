import Router, { type RouterContext } from '@koa/router';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { Config } from '../../config/index.js';
import type { Application } from '../application/index.js';
import { parseRole, type MemberFilter, type MemberRow } from '../application/members.js';
import { parseTwoFactorMode } from '../application/site.js';
import type { AuditEvent, Organization, User } from '../application/types.js';
import { UserError, ValidationError } from '../errors.js';
import { readJsonObject } from '../http/json-body.js';
import type { Logger } from '../log.js';
import { ACR } from '../policy/acr.js';
import { meetsRule } from '../policy/second-factor.js';
import { ADMIN_SCOPE, isAdminClient } from '../self-service/built-in-clients.js';

const ERROR_CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'invalid_token',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'request_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
};

class ApiError extends UserError {
  constructor(readonly code: string, message: string, status: number) {
    super(message, status);
  }
}

/** RFC 9470: the token's sign-in is not strong enough for what the rule requires today. */
const INSUFFICIENT_AUTHENTICATION = 'insufficient_user_authentication';

const policyJson = (organization: Organization) => ({
  forceTwoFactor: organization.forceTwoFactor,
  gracePeriodDays: organization.gracePeriodDays,
  rememberBrowserDays: organization.rememberBrowserDays,
  applyTo: organization.applyTo,
  enforcementStartedAt: organization.enforcementStartedAt?.toISOString() ?? null,
});

/** `?twoFactor=none`: members without a second factor; `?twoFactor=overdue`: those past their deadline. */
const memberFilterOf = (raw: unknown): MemberFilter => (raw === 'none' ? 'without-2fa' : raw === 'overdue' ? 'overdue' : 'all');

const memberJson = (row: MemberRow) => ({
  userId: row.user.id,
  email: row.user.email,
  name: row.user.name,
  role: row.role,
  suspended: row.user.suspendedAt !== null,
  twoFactor: { enrolled: row.enrolled, recoveryCodesRemaining: row.recoveryCodesRemaining, securityKeys: row.securityKeys, deadline: row.deadline?.toISOString() ?? null, overdue: row.overdue },
  lastSignInAt: row.user.lastSignInAt?.toISOString() ?? null,
});

const eventJson = (event: AuditEvent) => ({
  id: event.id,
  at: event.at.toISOString(),
  action: event.action,
  actor: event.actorId ? { id: event.actorId, email: event.actorEmail } : null,
  target: event.targetId ? { id: event.targetId, email: event.targetEmail } : null,
  ip: event.ip,
  details: event.details,
});

function bodyBoolean(body: Record<string, unknown>, name: string): boolean {
  if (typeof body[name] !== 'boolean') throw new ValidationError(`"${name}" must be true or false.`, name);
  return body[name] as boolean;
}

function bodyString(body: Record<string, unknown>, name: string, required: boolean): string | undefined {
  const value = body[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string') throw new ValidationError(`"${name}" must be a string.`, name);
  return value;
}

export interface AdminApiDependencies {
  readonly config: Config;
  readonly provider: Provider;
  readonly log: Logger;
  readonly application: Pick<Application, 'organizations' | 'members' | 'users' | 'site' | 'secondFactors' | 'signIns'>;
}

/**
 * The admin actions as JSON under /admin/api (docs/rules.md, "Organization administration"), for
 * automation. Authorized by bearer access tokens that Twofold issues with the `twofold:admin` scope;
 * the same application layer as the pages decides what the token's user may do. Errors are
 * `{ error, error_description }`.
 */
export function adminApi(dependencies: AdminApiDependencies): (ctx: Context, next: Next) => Promise<void> {
  const { config, log } = dependencies;
  const routes = adminApiRouter(dependencies).routes();
  return async function serveAdminApi(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== '/admin/api' && !ctx.path.startsWith('/admin/api/')) return next();
    ctx.set('Cache-Control', 'no-store');
    try {
      await routes(ctx as never, async () => {
        throw new ApiError('not_found', 'There is no such admin API endpoint.', 404);
      });
    } catch (error) {
      const status = error instanceof UserError ? error.status : 500;
      if (status >= 500) log.error('admin API request failed', { path: ctx.path, error: (error as Error).stack ?? String(error) });
      ctx.status = status;
      if (status === 401) {
        const code = error instanceof ApiError ? error.code : 'invalid_token';
        const stepUp = code === INSUFFICIENT_AUTHENTICATION ? `, acr_values="${ACR.twoFactor}"` : '';
        ctx.set('WWW-Authenticate', `Bearer realm="${config.issuer}", error="${code}", scope="${ADMIN_SCOPE}"${stepUp}`);
      }
      ctx.body = {
        error: error instanceof ApiError ? error.code : ERROR_CODES[status] ?? 'server_error',
        error_description: error instanceof UserError ? error.message : 'Something went wrong on our side.',
      };
    }
  };
}

function adminApiRouter({ provider, application }: AdminApiDependencies): Router {
  const { organizations, members, users, site, secondFactors, signIns } = application;
  const router = new Router({ prefix: '/admin/api' });

  const authenticate = async (ctx: Context): Promise<User> => {
    const header = ctx.get('authorization');
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header);
    if (!match) throw new ApiError('invalid_token', 'Send an access token: Authorization: Bearer <token>.', 401);
    const token = await provider.AccessToken.find(match[1]!);
    if (!token || token.isExpired) throw new ApiError('invalid_token', 'The access token is not valid or has expired.', 401);
    if (!isAdminClient(token.clientId) || !String(token.scope ?? '').split(' ').includes(ADMIN_SCOPE)) {
      throw new ApiError('insufficient_scope', `The access token lacks the ${ADMIN_SCOPE} scope: make one on the admin pages (Admin API access token).`, 403);
    }
    const user = token.accountId ? await signIns.account(token.accountId) : null;
    if (!user) throw new ApiError('invalid_token', 'The access token is not valid or has expired.', 401);
    // The rule holds for tokens as for pages: one made before the rule required a second factor opens nothing.
    const acr = (token.extra as { acr?: unknown } | undefined)?.acr;
    if (!meetsRule(await secondFactors.stepFor(user, { adminArea: true }, acr))) {
      throw new ApiError(INSUFFICIENT_AUTHENTICATION, 'This token was made by a sign-in without the second factor that is required now. Sign in to the admin pages again and make a new token.', 401);
    }
    return user;
  };
  const api = (handler: (ctx: RouterContext, actor: User) => Promise<unknown>, status = 200) => async (ctx: RouterContext) => {
    const actor = await authenticate(ctx);
    const body = await handler(ctx, actor);
    ctx.status = status;
    ctx.body = body;
  };
  const slug = (ctx: RouterContext) => String(ctx.params.slug);
  const userId = (ctx: RouterContext) => String(ctx.params.userId);

  router.get('/organizations', api(async (_ctx, actor) => ({
    organizations: (await organizations.manageable(actor)).map((org) => ({ slug: org.slug, name: org.name, forceTwoFactor: org.forceTwoFactor })),
  })));
  router.get('/organizations/:slug/policy', api(async (ctx, actor) => policyJson(await organizations.get(actor, slug(ctx)))));
  /**
   * Any of forceTwoFactor, gracePeriodDays, rememberBrowserDays (whole days, 0–90) and applyTo
   * ("all" or "owners"); what is left out stays as it is. Every value is checked before anything changes.
   */
  router.put('/organizations/:slug/policy', api(async (ctx, actor) => {
    await organizations.get(actor, slug(ctx));
    const body = await readJsonObject(ctx);
    const force = body.forceTwoFactor === undefined ? undefined : bodyBoolean(body, 'forceTwoFactor');
    let organization = await organizations.setRollout(actor, slug(ctx), { gracePeriodDays: body.gracePeriodDays, rememberBrowserDays: body.rememberBrowserDays, applyTo: body.applyTo }, ctx.ip);
    let notified = 0;
    if (force !== undefined) ({ organization, notified } = await organizations.setForceTwoFactor(actor, slug(ctx), force, ctx.ip));
    return { ...policyJson(organization), membersNotified: notified };
  }));
  router.get('/organizations/:slug/members', api(async (ctx, actor) => ({
    members: (await members.list(actor, slug(ctx), memberFilterOf(ctx.query.twoFactor))).map(memberJson),
  })));
  router.post('/organizations/:slug/members', api(async (ctx, actor) => {
    await organizations.get(actor, slug(ctx));
    const body = await readJsonObject(ctx);
    const name = bodyString(body, 'name', false);
    const { user, outcome } = await members.add(actor, slug(ctx), {
      email: bodyString(body, 'email', true)!,
      role: parseRole(body.role ?? 'member'),
      ...(name ? { name } : {}),
    }, ctx.ip);
    // An existing account is only invited: it is no member (and its id is not shown) until it accepts.
    return outcome === 'invited' ? { email: user.email, status: 'invited' } : { userId: user.id, email: user.email, status: 'member', invited: outcome === 'created' };
  }, 201));
  router.get('/organizations/:slug/invitations', api(async (ctx, actor) => ({
    invitations: (await members.pendingInvitations(actor, slug(ctx))).map((row) => ({
      id: row.invitation.id,
      email: row.email,
      role: row.invitation.role,
      createdAt: row.invitation.createdAt.toISOString(),
      expiresAt: row.invitation.expiresAt.toISOString(),
    })),
  })));
  router.delete('/organizations/:slug/invitations/:invitationId', api(async (ctx, actor) => {
    await members.withdrawInvitation(actor, slug(ctx), String(ctx.params.invitationId), ctx.ip);
    return { withdrawn: true };
  }));
  /** Optionally `{ "suspendAccount": true, "reason": "…" }`: suspends the account too (one of this organization alone). */
  router.delete('/organizations/:slug/members/:userId', api(async (ctx, actor) => {
    await organizations.get(actor, slug(ctx));
    const body = ctx.request.length ? await readJsonObject(ctx) : {};
    const suspendAccount = body.suspendAccount === undefined ? false : bodyBoolean(body, 'suspendAccount');
    const reason = bodyString(body, 'reason', false);
    const user = await members.remove(actor, slug(ctx), userId(ctx), ctx.ip, suspendAccount ? { suspendAccount: { reason } } : {});
    return { removed: user.email, suspended: suspendAccount };
  }));
  // The account of a member (docs/rules.md, "People leave"): an owner's only for an account of this organization alone.
  for (const action of ['suspend', 'reactivate'] as const) {
    router.post(`/organizations/:slug/members/:userId/${action}`, api(async (ctx, actor) => {
      await organizations.get(actor, slug(ctx));
      const user = await members[action](actor, slug(ctx), userId(ctx), bodyString(await readJsonObject(ctx), 'reason', false), ctx.ip);
      return { userId: user.id, suspended: action === 'suspend' };
    }));
  }
  router.post('/organizations/:slug/members/:userId/delete-account', api(async (ctx, actor) => {
    await organizations.get(actor, slug(ctx));
    const body = await readJsonObject(ctx);
    const user = await members.deleteAccount(actor, slug(ctx), userId(ctx), { confirmEmail: bodyString(body, 'confirmEmail', true)!, reason: bodyString(body, 'reason', false) }, ctx.ip);
    return { deleted: user.email };
  }));
  router.put('/organizations/:slug/members/:userId/role', api(async (ctx, actor) => {
    await organizations.get(actor, slug(ctx));
    const body = await readJsonObject(ctx);
    const role = parseRole(body.role);
    const user = await members.setRole(actor, slug(ctx), userId(ctx), role, ctx.ip);
    return { userId: user.id, role };
  }));
  router.post('/organizations/:slug/members/:userId/disable-2fa', api(async (ctx, actor) => {
    await organizations.get(actor, slug(ctx));
    const body = ctx.request.length ? await readJsonObject(ctx) : {};
    const user = await members.disableTwoFactor(actor, slug(ctx), userId(ctx), ctx.ip, bodyString(body, 'reason', false));
    return { userId: user.id, twoFactor: { enrolled: false } };
  }));
  router.get('/organizations/:slug/audit', api(async (ctx, actor) => {
    const log = await organizations.auditLog(actor, slug(ctx), ctx.query.page);
    return { events: log.events.map(eventJson), page: log.page, pages: log.pages, total: log.total };
  }));
  // Anyone's account, for site admins.
  for (const action of ['suspend', 'reactivate'] as const) {
    router.post(`/users/:userId/${action}`, api(async (ctx, actor) => {
      const user = await users[action](actor, userId(ctx), bodyString(await readJsonObject(ctx), 'reason', false), ctx.ip);
      return { userId: user.id, suspended: action === 'suspend' };
    }));
  }
  router.post('/users/:userId/delete', api(async (ctx, actor) => {
    const body = await readJsonObject(ctx);
    const user = await users.delete(actor, userId(ctx), { confirmEmail: bodyString(body, 'confirmEmail', true)!, reason: bodyString(body, 'reason', false) }, ctx.ip);
    return { deleted: user.email };
  }));
  router.get('/site/two-factor-mode', api(async (_ctx, actor) => {
    return { mode: await site.twoFactorModeFor(actor) };
  }));
  router.put('/site/two-factor-mode', api(async (ctx, actor) => {
    const mode = parseTwoFactorMode(bodyString(await readJsonObject(ctx), 'mode', true)!);
    await site.setTwoFactorMode(actor, mode, ctx.ip);
    return { mode };
  }));
  return router;
}
