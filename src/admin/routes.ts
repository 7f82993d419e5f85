import Router, { type RouterContext } from '@koa/router';
import type Provider from 'oidc-provider';
import type { Config } from '../../config/index.js';
import type { Application } from '../application/index.js';
import { parseRole } from '../application/members.js';
import type { Organization, User } from '../application/types.js';
import { UserError, ValidationError } from '../errors.js';
import type { DomainPreview } from '../federation/federation-service.js';
import { readForm, type Form } from '../http/forms.js';
import { render } from '../http/views.js';
import { ADMIN_APP } from '../self-service/built-in-clients.js';
import { SelfSignIn, type SelfSession } from '../self-service/self-sign-in.js';
import type { Adoption } from '../application/organizations.js';
import { adoptionChart } from './adoption-chart.js';
import { issueAdminApiToken } from './api-tokens.js';
import { describeAuditEvent } from './audit-sentences.js';
import { notice, redirectAfterPost } from './notices.js';
import { siteRoutes } from './site-routes.js';

/** What the account pages of a member and of a site user offer (docs/rules.md, "People leave"). */
type AccountAction = 'suspend' | 'reactivate' | 'delete';
const ACCOUNT_ACTIONS: readonly AccountAction[] = ['suspend', 'reactivate', 'delete'];
const ACCOUNT_ACTION_DONE: Readonly<Record<AccountAction, string>> = { suspend: 'suspended', reactivate: 'reactivated', delete: 'deleted' };
const ACCOUNT_ACTION_TITLES: Readonly<Record<AccountAction, string>> = { suspend: 'Suspend account', reactivate: 'Reactivate account', delete: 'Delete account' };

/** A refusal on a confirmation page: next to its field when it names one, above the form otherwise. */
const problemOf = (error: UserError) => (error instanceof ValidationError && error.field ? { field: error.field, message: error.message } : { field: null, message: error.message });
/** What was typed in a refused form, shown again so that it can be corrected (bounded: it is echoed into the page). */
const typedAgain = (form: Form, field: string) => form.field(field).slice(0, 1000);

const adoptionLocals = (adoption: Adoption) => ({ adoption, chart: adoptionChart(adoption) });

/**
 * The owners' and site admins' pages under /admin (docs/rules.md, "Organization administration"; seed 000). Signed in through Twofold
 * itself, so an owner meets their own organization's policy. Every page and form asks AdminService,
 * which checks on the server that the signed-in user may act on that organization.
 */
export interface AdminDependencies {
  readonly config: Config;
  readonly provider: Provider;
  readonly application: Pick<Application, 'organizations' | 'organizationSetup' | 'members' | 'users' | 'clients' | 'site' | 'federation' | 'secondFactors' | 'signIns' | 'outbox'>;
}

export function adminRouter({ config, provider, application }: AdminDependencies): Router {
  const { organizations, members, users, federation, secondFactors, signIns } = application;
  const router = new Router({ prefix: '/admin' });
  const signIn = new SelfSignIn(provider, signIns, secondFactors, config.issuer, ADMIN_APP);

  /**
   * Runs a page handler for a signed-in user whose sign-in meets the rule today; anyone else is sent
   * to sign in (GET) or refused.
   */
  const page = (handler: (ctx: RouterContext, actor: User) => Promise<void>) => async (ctx: RouterContext) => {
    const session = await signIn.current(ctx);
    if (!session) {
      if (ctx.method === 'GET') return ctx.redirect(signIn.start(ctx));
      throw new UserError('Your admin session has ended, or it no longer meets this site\'s sign-in rules. Open the admin pages again and sign in.', 401);
    }
    ctx.state.actor = session.user;
    ctx.state.session = session;
    await handler(ctx, session.user);
  };
  const slug = (ctx: RouterContext) => String(ctx.params.slug);
  const userId = (ctx: RouterContext) => String(ctx.params.userId);
  const orgPath = (ctx: RouterContext) => `/admin/orgs/${encodeURIComponent(slug(ctx))}`;

  router.get('/callback', async (ctx) => {
    ctx.redirect(await signIn.finish(ctx));
  });
  router.get('/logout', (ctx) => ctx.redirect(signIn.signOut(ctx)));

  router.get('/', page(async (ctx, actor) => {
    render(ctx, 'admin/index', { title: 'Administration', actor, organizations: await organizations.manageable(actor) });
  }));

  router.get('/orgs/:slug', page(async (ctx) => ctx.redirect(`${orgPath(ctx)}/settings`)));

  interface SettingsProblems {
    readonly error?: string;
    /** A refused rollout value: the sentence goes next to its field, and the form keeps what was typed. */
    readonly rolloutError?: { readonly field: string; readonly message: string };
    readonly rolloutForm?: Record<string, string>;
    readonly federationError?: string;
    readonly federationNotice?: string;
    readonly federationForm?: Record<string, string>;
    readonly domainsError?: string;
    readonly domainsForm?: string;
    readonly domainPreview?: readonly DomainPreview[];
  }
  const showSettings = async (ctx: RouterContext, actor: User, status = 200, problems: SettingsProblems = {}) => {
    const organization = await organizations.get(actor, slug(ctx));
    const withoutTwoFactor = await members.list(actor, slug(ctx), 'without-2fa');
    const notified = Number(ctx.query.notified);
    render(ctx, 'admin/settings', {
      title: `Settings · ${organization.name}`,
      actor,
      organization,
      section: 'settings',
      withoutTwoFactor,
      actorEnrolled: (await secondFactors.facts(actor)).enrolled,
      notice: notice(ctx),
      notified: Number.isInteger(notified) && notified > 0 ? notified : 0,
      redirectUri: federation.callbackUrl(organization.slug),
      federationForm: problems.federationForm ?? {
        issuer: organization.federation?.issuer ?? '',
        clientId: organization.federation?.clientId ?? '',
      },
      domainsForm: problems.domainsForm ?? organization.federation?.domains.join(', ') ?? '',
      rolloutForm: problems.rolloutForm ?? {
        gracePeriodDays: String(organization.gracePeriodDays),
        rememberBrowserDays: String(organization.rememberBrowserDays),
        applyTo: organization.applyTo,
        requiredFactor: organization.requiredFactor,
        confirmSetupByEmail: organization.confirmSetupByEmail ? 'on' : 'off',
      },
      ...adoptionLocals(await organizations.adoption(actor, slug(ctx))),
      ...problems,
    }, status);
  };
  router.get('/orgs/:slug/settings', page(showSettings));
  router.post('/orgs/:slug/settings', page(async (ctx, actor) => {
    const form = await readForm(ctx);
    const value = form.field('forceTwoFactor');
    if (value !== '' && value !== 'on') return showSettings(ctx, actor, 400, { error: 'Choose whether to force two-factor authentication.' });
    const rollout = {
      gracePeriodDays: form.optionalField('gracePeriodDays'),
      rememberBrowserDays: form.optionalField('rememberBrowserDays'),
      applyTo: form.optionalField('applyTo'),
      requiredFactor: form.optionalField('requiredFactor'),
      // A checkbox sends nothing when unticked: the form says it showed one, and then nothing means off.
      confirmSetupByEmail: form.optionalField('confirmSetupByEmailShown') === undefined ? undefined : form.field('confirmSetupByEmail') || 'off',
    };
    try {
      // Before the switch, so that a switch-on e-mail already names the new grace period's deadline.
      await organizations.setRollout(actor, slug(ctx), rollout, ctx.ip);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const typed = Object.fromEntries(Object.entries(rollout).map(([name, typedValue]) => [name, typedValue ?? '']));
      return showSettings(ctx, actor, 400, { rolloutError: { field: error.field ?? 'gracePeriodDays', message: error.message }, rolloutForm: typed });
    }
    const { notified } = await organizations.setForceTwoFactor(actor, slug(ctx), value === 'on', ctx.ip);
    redirectAfterPost(ctx, `${orgPath(ctx)}/settings?done=saved${notified ? `&notified=${notified}` : ''}`);
  }));

  /** Runs a settings action; a refusal shows the settings again with the sentence in the right section. */
  const settingsAction = (section: 'federationError' | 'domainsError', action: (ctx: RouterContext, actor: User, form: Awaited<ReturnType<typeof readForm>>) => Promise<string | SettingsProblems>) =>
    page(async (ctx, actor) => {
      await organizations.get(actor, slug(ctx));
      const form = await readForm(ctx);
      let outcome: string | SettingsProblems;
      try {
        outcome = await action(ctx, actor, form);
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        const kept = section === 'federationError' ? { federationForm: { issuer: form.field('issuer'), clientId: form.field('clientId') } } : { domainsForm: form.field('domains') };
        return showSettings(ctx, actor, error.status, { [section]: error.message, ...kept });
      }
      if (typeof outcome === 'string') return redirectAfterPost(ctx, `${orgPath(ctx)}/settings?done=${outcome}`);
      return showSettings(ctx, actor, 200, outcome);
    });
  const splitDomains = (raw: string) => raw.split(/[\s,]+/);

  router.post('/orgs/:slug/identity-provider', settingsAction('federationError', async (ctx, actor, form) => {
    const organization = await organizations.get(actor, slug(ctx));
    // Domains are a site admin's to assign; an owner's form has no such field, so one sent anyway is refused.
    if (form.field('domains')) await federation.assignDomains(actor, organization, splitDomains(form.field('domains')), ctx.ip);
    await federation.configure(actor, organization, {
      issuer: form.field('issuer'),
      clientId: form.field('clientId'),
      ...(form.field('clientSecret') ? { clientSecret: form.field('clientSecret') } : {}),
    }, ctx.ip);
    return 'identity-provider';
  }));
  router.post('/orgs/:slug/domains', settingsAction('domainsError', async (ctx, actor, form) => {
    const organization = await organizations.get(actor, slug(ctx));
    const domains = splitDomains(form.field('domains'));
    if (form.field('confirm') !== 'yes') {
      return { domainsForm: form.field('domains'), domainPreview: await federation.previewDomains(actor, organization, domains, ctx.ip) };
    }
    await federation.assignDomains(actor, organization, domains, ctx.ip);
    return 'domains';
  }));
  router.post('/orgs/:slug/identity-provider/trust', settingsAction('federationError', async (ctx, actor, form) => {
    const organization = await organizations.get(actor, slug(ctx));
    await federation.setTrustedForTwoFactor(actor, organization, form.field('trustedForTwoFactor') === 'on', ctx.ip);
    return 'trust';
  }));
  router.post('/orgs/:slug/identity-provider/test', page(async (ctx, actor) => {
    const organization = await organizations.get(actor, slug(ctx));
    await readForm(ctx);
    try {
      await showSettings(ctx, actor, 200, { federationNotice: await federation.testConnection(organization) });
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      await showSettings(ctx, actor, error.status, { federationError: error.message });
    }
  }));
  router.post('/orgs/:slug/identity-provider/remove', page(async (ctx, actor) => {
    const organization = await organizations.get(actor, slug(ctx));
    await readForm(ctx);
    await federation.remove(actor, organization, ctx.ip);
    redirectAfterPost(ctx, `${orgPath(ctx)}/settings?done=identity-provider-removed`);
  }));

  const showMembers = async (ctx: RouterContext, actor: User, status = 200, error?: string, form: Record<string, string> = {}, actionError?: string) => {
    const organization = await organizations.get(actor, slug(ctx));
    const filter = ctx.query.filter === 'without-2fa' || ctx.query.filter === 'overdue' ? ctx.query.filter : 'all';
    render(ctx, 'admin/members', {
      title: `Members · ${organization.name}`,
      actor,
      organization,
      section: 'members',
      members: await members.list(actor, slug(ctx), filter),
      invitations: await members.pendingInvitations(actor, slug(ctx)),
      filter,
      ...adoptionLocals(await organizations.adoption(actor, slug(ctx))),
      notice: notice(ctx),
      error,
      actionError,
      form,
    }, status);
  };
  router.get('/orgs/:slug/members', page(showMembers));
  /** A change from the members table; a refusal the owner can act on (the last owner) is shown above the table, not on a page of its own. */
  const memberAction = (action: (ctx: RouterContext, actor: User) => Promise<string>) => page(async (ctx, actor) => {
    let done: string;
    try {
      done = await action(ctx, actor);
    } catch (error) {
      if (!(error instanceof UserError) || error.status === 404) throw error;
      return showMembers(ctx, actor, error.status, undefined, {}, error.message);
    }
    redirectAfterPost(ctx, `${orgPath(ctx)}/members?done=${done}`);
  });
  router.post('/orgs/:slug/members', page(async (ctx, actor) => {
    await organizations.get(actor, slug(ctx));
    const form = await readForm(ctx);
    const input = { email: form.field('email'), role: form.field('role') || 'member', name: form.field('name') };
    try {
      const { outcome } = await members.add(actor, slug(ctx), { email: input.email, role: parseRole(input.role), ...(input.name ? { name: input.name } : {}) }, ctx.ip);
      redirectAfterPost(ctx, `${orgPath(ctx)}/members?done=${outcome}`);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      await showMembers(ctx, actor, error.status, error.message, input);
    }
  }));
  router.post('/orgs/:slug/invitations/:invitationId/withdraw', page(async (ctx, actor) => {
    await readForm(ctx);
    await members.withdrawInvitation(actor, slug(ctx), String(ctx.params.invitationId), ctx.ip);
    redirectAfterPost(ctx, `${orgPath(ctx)}/members?done=withdrawn`);
  }));
  const showRemoval = async (ctx: RouterContext, actor: User, status = 200, problem?: { field: string | null; message: string }, form: Record<string, string> = {}) => {
    const { organization, row } = await members.member(actor, slug(ctx), userId(ctx));
    render(ctx, 'admin/confirm-remove', {
      title: 'Remove member',
      actor,
      organization,
      section: 'members',
      member: row,
      action: `${orgPath(ctx)}/members/${encodeURIComponent(row.user.id)}/remove`,
      cancelUrl: `${orgPath(ctx)}/members`,
      problem,
      form,
    }, status);
  };
  router.get('/orgs/:slug/members/:userId/remove', page((ctx, actor) => showRemoval(ctx, actor)));
  router.post('/orgs/:slug/members/:userId/remove', page(async (ctx, actor) => {
    const form = await readForm(ctx);
    const suspendAccount = form.field('suspendAccount') === 'on';
    try {
      await members.remove(actor, slug(ctx), userId(ctx), ctx.ip, suspendAccount ? { suspendAccount: { reason: form.field('reason') } } : {});
    } catch (error) {
      if (!(error instanceof UserError) || error.status === 404) throw error;
      // The last owner is refused above the members table, as before; a refused suspension on the page that asked for it.
      if (!suspendAccount) return showMembers(ctx, actor, error.status, undefined, {}, error.message);
      return showRemoval(ctx, actor, error.status, problemOf(error), { suspendAccount: 'on', reason: typedAgain(form, 'reason') });
    }
    redirectAfterPost(ctx, `${orgPath(ctx)}/members?done=${suspendAccount ? 'removed-suspended' : 'removed'}`);
  }));

  /**
   * Suspend, reactivate and delete a member's account: a confirmation page each (the reason; for
   * deletion the email typed again), and its form. An owner is offered them only for an account of
   * this organization alone; the page otherwise says a site admin must.
   */
  interface AccountConfirmation {
    /** `ownedHere` false: an owner may not act on it, and the page says who may. */
    readonly subject: { readonly user: User; readonly ownedHere?: boolean };
    readonly base: string;
    readonly cancelUrl: string;
    readonly organization?: Organization;
  }
  const showAccountConfirmation = (ctx: RouterContext, actor: User, action: AccountAction, page: AccountConfirmation, status = 200, problem?: { field: string | null; message: string }, form: Record<string, string> = {}) => {
    render(ctx, 'admin/confirm-account', {
      title: ACCOUNT_ACTION_TITLES[action],
      actor,
      section: page.organization ? 'members' : undefined,
      organization: page.organization,
      mode: action,
      member: page.subject,
      action: `${page.base}/${action}`,
      cancelUrl: page.cancelUrl,
      problem,
      form,
    }, status);
  };
  const accountActionRoutes = (path: string, load: (ctx: RouterContext, actor: User) => Promise<AccountConfirmation>, perform: (ctx: RouterContext, actor: User, action: AccountAction, form: Form) => Promise<string>) => {
    for (const action of ACCOUNT_ACTIONS) {
      router.get(`${path}/${action}`, page(async (ctx, actor) => showAccountConfirmation(ctx, actor, action, await load(ctx, actor))));
      router.post(`${path}/${action}`, page(async (ctx, actor) => {
        const form = await readForm(ctx);
        let to: string;
        try {
          to = await perform(ctx, actor, action, form);
        } catch (error) {
          if (!(error instanceof UserError) || error.status === 404) throw error;
          const typed = { reason: typedAgain(form, 'reason'), confirmEmail: typedAgain(form, 'confirmEmail') };
          return showAccountConfirmation(ctx, actor, action, await load(ctx, actor), error.status, problemOf(error), typed);
        }
        redirectAfterPost(ctx, to);
      }));
    }
  };
  accountActionRoutes('/orgs/:slug/members/:userId', async (ctx, actor) => {
    const { organization, row } = await members.member(actor, slug(ctx), userId(ctx));
    return { subject: row, organization, base: `${orgPath(ctx)}/members/${encodeURIComponent(row.user.id)}`, cancelUrl: `${orgPath(ctx)}/members` };
  }, async (ctx, actor, action, form) => {
    if (action === 'delete') await members.deleteAccount(actor, slug(ctx), userId(ctx), { confirmEmail: form.field('confirmEmail'), reason: form.field('reason') }, ctx.ip);
    else await members[action](actor, slug(ctx), userId(ctx), form.field('reason'), ctx.ip);
    return `${orgPath(ctx)}/members?done=${ACCOUNT_ACTION_DONE[action]}`;
  });
  router.post('/orgs/:slug/members/:userId/role', memberAction(async (ctx, actor) => {
    const form = await readForm(ctx);
    await members.setRole(actor, slug(ctx), userId(ctx), parseRole(form.field('role')), ctx.ip);
    return 'role';
  }));
  router.get('/orgs/:slug/members/:userId/disable-2fa', page(async (ctx, actor) => {
    const { organization, row } = await members.member(actor, slug(ctx), userId(ctx));
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
    await members.disableTwoFactor(actor, slug(ctx), userId(ctx), ctx.ip, form.field('reason'));
    redirectAfterPost(ctx, `${orgPath(ctx)}/members?done=disabled`);
  }));
  router.get('/orgs/:slug/audit', page(async (ctx, actor) => {
    const log = await organizations.auditLog(actor, slug(ctx), ctx.query.page);
    render(ctx, 'admin/audit', { title: `Audit log · ${log.organization.name}`, actor, section: 'audit', ...log, basePath: `${orgPath(ctx)}/audit`, describe: describeAuditEvent });
  }));

  siteRoutes(router, { config, application, page });
  // Suspend, reactivate and delete, for site admins, from any user's page (docs/rules.md, "People leave").
  accountActionRoutes('/site/users/:userId', async (ctx, actor) => {
    const profile = await users.profile(actor, userId(ctx));
    const base = `/admin/site/users/${encodeURIComponent(profile.user.id)}`;
    return { subject: { user: profile.user }, base, cancelUrl: base };
  }, async (ctx, actor, action, form) => {
    if (action === 'delete') {
      await users.delete(actor, userId(ctx), { confirmEmail: form.field('confirmEmail'), reason: form.field('reason') }, ctx.ip);
      return '/admin/site?done=deleted';
    }
    await users[action](actor, userId(ctx), form.field('reason'), ctx.ip);
    return `/admin/site/users/${encodeURIComponent(userId(ctx))}?done=${ACCOUNT_ACTION_DONE[action]}`;
  });

  router.get('/api-token', page(async (ctx, actor) => {
    render(ctx, 'admin/api-token', { title: 'Admin API access token', actor });
  }));
  router.post('/api-token', page(async (ctx, actor) => {
    await readForm(ctx);
    const token = await issueAdminApiToken(provider, actor, ctx.state.session as SelfSession);
    render(ctx, 'admin/api-token', { title: 'Admin API access token', actor, token });
  }));

  return router;
}
