import Router, { type RouterContext } from '@koa/router';
import type { Context } from 'koa';
import { getSiteTwoFactorMode, parseTwoFactorMode, TWO_FACTOR_MODES } from '../directory/site-settings.js';
import { UserError } from '../errors.js';
import { readForm } from '../http/forms.js';
import { render } from '../http/views.js';
import { ADMIN_APP } from '../self-service/built-in-clients.js';
import { SelfSignIn } from '../self-service/self-sign-in.js';
import type { Services } from '../services.js';
import type { User } from '../store/types.js';
import { parseRole, type AdminService } from './admin-service.js';

/** Confirmations after a change, chosen by a query parameter from this list (never echoed input). */
const NOTICES: Record<string, string> = {
  saved: 'Saved.',
  added: 'The member was added.',
  invited: 'The member was added and e-mailed an invitation to set a password.',
  removed: 'The member was removed.',
  role: 'The role was changed.',
  disabled: 'Two-factor authentication was disabled. The member was signed out everywhere and e-mailed; they set it up again, with a new QR code, at their next sign-in if it is required.',
  mode: 'The site-wide mode was saved.',
  'identity-provider': 'The identity provider was saved. Members now sign in there, and this organization no longer enforces its own two-factor authentication.',
  'identity-provider-removed': 'Members sign in with a password here again.',
};

const notice = (ctx: Context) => (typeof ctx.query.done === 'string' ? NOTICES[ctx.query.done] : undefined);
const redirectAfterPost = (ctx: Context, to: string) => {
  ctx.status = 303;
  ctx.redirect(to);
};

/**
 * The owners' and site admins' pages under /admin (SPEC 1.6, seed 000). Signed in through Twofold
 * itself, so an owner meets their own organization's policy. Every page and form asks AdminService,
 * which checks on the server that the signed-in user may act on that organization.
 */
export function adminRouter(services: Services, admin: AdminService): Router {
  const { config, provider, store } = services;
  const router = new Router({ prefix: '/admin' });
  const signIn = new SelfSignIn(provider, store, config.issuer, ADMIN_APP);

  /** Runs a page handler for a signed-in user; anonymous visitors are sent to sign in (GET) or refused. */
  const page = (handler: (ctx: RouterContext, actor: User) => Promise<void>) => async (ctx: RouterContext) => {
    const session = await signIn.current(ctx);
    if (!session) {
      if (ctx.method === 'GET') return ctx.redirect(signIn.start(ctx));
      throw new UserError('Your admin session has ended. Open the admin pages again and sign in.', 401);
    }
    ctx.state.actor = session.user;
    await handler(ctx, session.user);
  };
  const slug = (ctx: RouterContext) => String(ctx.params.slug);
  const userId = (ctx: RouterContext) => String(ctx.params.userId);
  const orgPath = (ctx: RouterContext) => `/admin/orgs/${encodeURIComponent(slug(ctx))}`;

  router.get('/callback', async (ctx) => {
    await signIn.finish(ctx);
    ctx.redirect('/admin');
  });
  router.get('/logout', (ctx) => ctx.redirect(signIn.signOut(ctx)));

  router.get('/', page(async (ctx, actor) => {
    render(ctx, 'admin/index', { title: 'Administration', actor, organizations: await admin.manageableOrganizations(actor) });
  }));

  router.get('/orgs/:slug', page(async (ctx) => ctx.redirect(`${orgPath(ctx)}/settings`)));

  interface SettingsProblems {
    readonly error?: string;
    readonly federationError?: string;
    readonly federationNotice?: string;
    readonly federationForm?: Record<string, string>;
  }
  const showSettings = async (ctx: RouterContext, actor: User, status = 200, problems: SettingsProblems = {}) => {
    const organization = await admin.organization(actor, slug(ctx));
    const withoutTwoFactor = await admin.members(actor, slug(ctx), { withoutTwoFactor: true });
    const notified = Number(ctx.query.notified);
    render(ctx, 'admin/settings', {
      title: `Settings · ${organization.name}`,
      actor,
      organization,
      section: 'settings',
      withoutTwoFactor,
      notice: notice(ctx),
      notified: Number.isInteger(notified) && notified > 0 ? notified : 0,
      redirectUri: services.federation.callbackUrl(organization.slug),
      federationForm: problems.federationForm ?? {
        issuer: organization.federation?.issuer ?? '',
        clientId: organization.federation?.clientId ?? '',
        domains: organization.federation?.domains.join(', ') ?? '',
      },
      ...problems,
    }, status);
  };
  router.get('/orgs/:slug/settings', page(showSettings));
  router.post('/orgs/:slug/settings', page(async (ctx, actor) => {
    const form = await readForm(ctx);
    const value = form.field('forceTwoFactor');
    if (value !== '' && value !== 'on') return showSettings(ctx, actor, 400, { error: 'Choose whether to force two-factor authentication.' });
    const { notified } = await admin.setForceTwoFactor(actor, slug(ctx), value === 'on', ctx.ip);
    redirectAfterPost(ctx, `${orgPath(ctx)}/settings?done=saved${notified ? `&notified=${notified}` : ''}`);
  }));

  router.post('/orgs/:slug/identity-provider', page(async (ctx, actor) => {
    const organization = await admin.organization(actor, slug(ctx));
    const form = await readForm(ctx);
    const input = { issuer: form.field('issuer'), clientId: form.field('clientId'), domains: form.field('domains') };
    try {
      await services.federation.configure(actor, organization, {
        issuer: input.issuer,
        clientId: input.clientId,
        ...(form.field('clientSecret') ? { clientSecret: form.field('clientSecret') } : {}),
        domains: input.domains.split(/[\s,]+/),
      }, ctx.ip);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      return showSettings(ctx, actor, error.status, { federationError: error.message, federationForm: input });
    }
    redirectAfterPost(ctx, `${orgPath(ctx)}/settings?done=identity-provider`);
  }));
  router.post('/orgs/:slug/identity-provider/test', page(async (ctx, actor) => {
    const organization = await admin.organization(actor, slug(ctx));
    await readForm(ctx);
    try {
      await showSettings(ctx, actor, 200, { federationNotice: await services.federation.testConnection(organization) });
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      await showSettings(ctx, actor, error.status, { federationError: error.message });
    }
  }));
  router.post('/orgs/:slug/identity-provider/remove', page(async (ctx, actor) => {
    const organization = await admin.organization(actor, slug(ctx));
    await readForm(ctx);
    await services.federation.remove(actor, organization, ctx.ip);
    redirectAfterPost(ctx, `${orgPath(ctx)}/settings?done=identity-provider-removed`);
  }));

  const showMembers = async (ctx: RouterContext, actor: User, status = 200, error?: string, form: Record<string, string> = {}) => {
    const organization = await admin.organization(actor, slug(ctx));
    const withoutTwoFactor = ctx.query.filter === 'without-2fa';
    render(ctx, 'admin/members', {
      title: `Members · ${organization.name}`,
      actor,
      organization,
      section: 'members',
      members: await admin.members(actor, slug(ctx), { withoutTwoFactor }),
      withoutTwoFactor,
      notice: notice(ctx),
      error,
      form,
    }, status);
  };
  router.get('/orgs/:slug/members', page(showMembers));
  router.post('/orgs/:slug/members', page(async (ctx, actor) => {
    await admin.organization(actor, slug(ctx));
    const form = await readForm(ctx);
    const input = { email: form.field('email'), role: form.field('role') || 'member', name: form.field('name') };
    try {
      const { invited } = await admin.addMember(actor, slug(ctx), { email: input.email, role: parseRole(input.role), ...(input.name ? { name: input.name } : {}) }, ctx.ip);
      redirectAfterPost(ctx, `${orgPath(ctx)}/members?done=${invited ? 'invited' : 'added'}`);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      await showMembers(ctx, actor, error.status, error.message, input);
    }
  }));
  router.post('/orgs/:slug/members/:userId/remove', page(async (ctx, actor) => {
    await readForm(ctx);
    await admin.removeMember(actor, slug(ctx), userId(ctx), ctx.ip);
    redirectAfterPost(ctx, `${orgPath(ctx)}/members?done=removed`);
  }));
  router.post('/orgs/:slug/members/:userId/role', page(async (ctx, actor) => {
    const form = await readForm(ctx);
    await admin.setRole(actor, slug(ctx), userId(ctx), parseRole(form.field('role')), ctx.ip);
    redirectAfterPost(ctx, `${orgPath(ctx)}/members?done=role`);
  }));
  router.get('/orgs/:slug/members/:userId/disable-2fa', page(async (ctx, actor) => {
    const { organization, row } = await admin.member(actor, slug(ctx), userId(ctx));
    render(ctx, 'admin/confirm-disable', {
      title: 'Disable 2FA',
      actor,
      organization,
      section: 'members',
      member: row,
      action: `${orgPath(ctx)}/members/${encodeURIComponent(row.user.id)}/disable-2fa`,
      cancelUrl: `${orgPath(ctx)}/members`,
    });
  }));
  router.post('/orgs/:slug/members/:userId/disable-2fa', page(async (ctx, actor) => {
    const form = await readForm(ctx);
    await admin.disableMemberTwoFactor(actor, slug(ctx), userId(ctx), ctx.ip, form.field('reason'));
    redirectAfterPost(ctx, `${orgPath(ctx)}/members?done=disabled`);
  }));
  router.get('/orgs/:slug/audit', page(async (ctx, actor) => {
    const log = await admin.auditLog(actor, slug(ctx), Number(ctx.query.page ?? 1));
    render(ctx, 'admin/audit', { title: `Audit log · ${log.organization.name}`, actor, section: 'audit', ...log, basePath: `${orgPath(ctx)}/audit` });
  }));

  // Site admins.
  const showSite = async (ctx: RouterContext, actor: User, status = 200, error?: string) => {
    if (!actor.siteAdmin) throw new UserError('Only site admins can open the site settings.', 403);
    const query = typeof ctx.query.q === 'string' ? ctx.query.q.slice(0, 254) : '';
    render(ctx, 'admin/site', {
      title: 'Site settings',
      actor,
      mode: await getSiteTwoFactorMode(store.settings),
      modes: TWO_FACTOR_MODES,
      query,
      users: await admin.findUsers(actor, query),
      notice: notice(ctx),
      error,
    }, status);
  };
  router.get('/site', page(showSite));
  router.post('/site', page(async (ctx, actor) => {
    const form = await readForm(ctx);
    let mode;
    try {
      mode = parseTwoFactorMode(form.field('mode'));
    } catch (error) {
      return showSite(ctx, actor, 400, (error as Error).message);
    }
    await admin.setSiteMode(actor, mode, ctx.ip);
    redirectAfterPost(ctx, '/admin/site?done=mode');
  }));
  router.get('/site/users/:userId', page(async (ctx, actor) => {
    const profile = await admin.user(actor, userId(ctx));
    render(ctx, 'admin/user', { title: profile.user.email, actor, profile, notice: notice(ctx) });
  }));
  router.get('/site/users/:userId/disable-2fa', page(async (ctx, actor) => {
    const profile = await admin.user(actor, userId(ctx));
    render(ctx, 'admin/confirm-disable', {
      title: 'Disable 2FA',
      actor,
      member: profile,
      action: `/admin/site/users/${encodeURIComponent(profile.user.id)}/disable-2fa`,
      cancelUrl: `/admin/site/users/${encodeURIComponent(profile.user.id)}`,
    });
  }));
  router.post('/site/users/:userId/disable-2fa', page(async (ctx, actor) => {
    const form = await readForm(ctx);
    await admin.disableUserTwoFactor(actor, userId(ctx), ctx.ip, form.field('reason'));
    redirectAfterPost(ctx, `/admin/site/users/${encodeURIComponent(userId(ctx))}?done=disabled`);
  }));
  router.get('/site/audit', page(async (ctx, actor) => {
    const log = await admin.siteAuditLog(actor, Number(ctx.query.page ?? 1));
    render(ctx, 'admin/audit', { title: 'Site audit log', actor, ...log, basePath: '/admin/site/audit' });
  }));

  return router;
}
