import type Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import type { Config } from '../../config/index.js';
import { requireSiteWide } from '../application/actor.js';
import type { Application } from '../application/index.js';
import { parseTwoFactorMode, TWO_FACTOR_MODES } from '../application/site.js';
import type { User } from '../application/types.js';
import type { UserSearchPage } from '../application/users.js';
import { ConflictError, NotFoundError, UserError, ValidationError } from '../errors.js';
import { readForm, type Form } from '../http/forms.js';
import { render } from '../http/views.js';
import { describeAuditEvent } from './audit-sentences.js';
import { notice, redirectAfterPost } from './notices.js';

type PageHandler = (ctx: RouterContext, actor: User) => Promise<void>;

export interface SiteRoutesDependencies {
  readonly config: Config;
  readonly application: Pick<Application, 'organizations' | 'organizationSetup' | 'users' | 'clients' | 'site' | 'outbox'>;
  /** Runs a handler for a signed-in admin whose sign-in meets the rule (./routes.ts). */
  readonly page: (handler: PageHandler) => (ctx: RouterContext) => Promise<void>;
}

/** A refused form: the sentence goes next to `field` (or above the form when it names none), and the form keeps what was typed. */
interface FormProblem {
  readonly field: string;
  readonly message: string;
  readonly values: Readonly<Record<string, string>>;
}

/** The sentence of a refusal the person can put right; anything else is not for a form. */
function problemOf(error: unknown, values: Record<string, string>): { problem: FormProblem; status: number } {
  if (!(error instanceof UserError) || error instanceof NotFoundError || error.status === 403) throw error;
  const field = error instanceof ValidationError || error instanceof ConflictError ? error.field ?? '' : '';
  return { problem: { field, message: error.message, values }, status: error.status };
}

/** A form field of several lines: one entry a line, blank lines left out. */
const lines = (raw: string) => raw.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);

const ORGANIZATION_FIELDS = ['name', 'slug', 'ownerEmail'] as const;
const APPLICATION_FIELDS = ['name', 'clientId', 'redirectUris', 'postLogoutRedirectUris', 'backchannelLogoutUri', 'kind', 'firstParty'] as const;
const typed = (form: Form, names: readonly string[]) => Object.fromEntries(names.map((name) => [name, form.field(name)]));

/**
 * The site admins' pages under /admin/site (docs/rules.md, "The site admins' console"): the site-wide
 * mode; organizations, applications and users; failed e-mails; any user's profile; the site audit
 * log. Every handler asks the application layer, which refuses anyone who is not a site admin.
 */
export function siteRoutes(router: Router, { config, application, page }: SiteRoutesDependencies): void {
  const { organizations, organizationSetup, users, clients, site, outbox } = application;
  const userId = (ctx: RouterContext) => String(ctx.params.userId);
  const slug = (ctx: RouterContext) => String(ctx.params.slug);
  const clientId = (ctx: RouterContext) => String(ctx.params.clientId);

  interface SiteProblems {
    readonly modeError?: string;
    readonly organizationProblem?: FormProblem;
    readonly applicationProblem?: FormProblem;
  }
  const showSite = async (ctx: RouterContext, actor: User, status = 200, problems: SiteProblems = {}) => {
    const mode = await site.twoFactorModeFor(actor);
    const confirmSetupByEmail = await site.setupConfirmationFor(actor);
    let search: UserSearchPage | null = null;
    let searchError: string | undefined;
    try {
      search = await users.search(actor, ctx.query.q, ctx.query.page);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      searchError = error.message;
      status = 400;
    }
    render(ctx, 'admin/site', {
      title: 'Site settings',
      actor,
      mode,
      modes: TWO_FACTOR_MODES,
      confirmSetupByEmail,
      organizations: await organizations.overview(actor),
      applications: await clients.list(actor),
      query: typeof ctx.query.q === 'string' ? ctx.query.q.slice(0, 254) : '',
      search,
      searchError,
      failedEmails: await outbox.failed(actor),
      notice: notice(ctx),
      organizationForm: problems.organizationProblem?.values ?? {},
      applicationForm: problems.applicationProblem?.values ?? { kind: 'confidential' },
      ...problems,
    }, status);
  };
  router.get('/site', page(showSite));
  router.post('/site', page(async (ctx, actor) => {
    const form = await readForm(ctx);
    let mode;
    try {
      mode = parseTwoFactorMode(form.field('mode'));
    } catch (error) {
      return showSite(ctx, actor, 400, { modeError: (error as Error).message });
    }
    // A checkbox sends nothing when unticked: the form says it showed one, and then nothing means off.
    const shown = form.optionalField('confirmSetupByEmailShown') !== undefined;
    const confirm = form.field('confirmSetupByEmail');
    if (shown && confirm !== '' && confirm !== 'on') return showSite(ctx, actor, 400, { modeError: 'Choose whether a first set-up is confirmed by e-mail.' });
    await site.setTwoFactorMode(actor, mode, ctx.ip);
    if (shown) await site.setSetupConfirmation(actor, confirm === 'on', ctx.ip);
    redirectAfterPost(ctx, '/admin/site?done=mode');
  }));
  router.post('/site/emails/:emailId/retry', page(async (ctx, actor) => {
    await readForm(ctx);
    await outbox.retry(actor, String(ctx.params.emailId), ctx.ip);
    redirectAfterPost(ctx, '/admin/site?done=email-retried');
  }));

  // Organizations.
  router.post('/site/organizations', page(async (ctx, actor) => {
    requireSiteWide(actor);
    const form = await readForm(ctx);
    const values = typed(form, ORGANIZATION_FIELDS);
    let done: string;
    try {
      const { owner } = await organizationSetup.create(actor, { slug: values.slug!, name: values.name!, ownerEmail: values.ownerEmail! }, ctx.ip);
      done = owner === null ? 'organization-created' : owner.outcome === 'invited' ? 'organization-created-invited' : owner.outcome === 'created' ? 'organization-created-owner' : 'organization-created-added';
    } catch (error) {
      const { problem, status } = problemOf(error, values);
      return showSite(ctx, actor, status, { organizationProblem: problem });
    }
    redirectAfterPost(ctx, `/admin/site?done=${done}#organizations`);
  }));
  const showRename = async (ctx: RouterContext, actor: User, status = 200, problem?: FormProblem) => {
    const { organization } = await organizations.overviewOne(actor, slug(ctx));
    render(ctx, 'admin/organization-rename', { title: `Rename ${organization.name}`, actor, organization: null, subject: organization, problem, name: problem?.values.name ?? organization.name }, status);
  };
  router.get('/site/organizations/:slug/rename', page(showRename));
  router.post('/site/organizations/:slug/rename', page(async (ctx, actor) => {
    requireSiteWide(actor);
    const form = await readForm(ctx);
    try {
      await organizations.rename(actor, slug(ctx), form.field('name'), ctx.ip);
    } catch (error) {
      const { problem, status } = problemOf(error, { name: form.field('name') });
      return showRename(ctx, actor, status, problem);
    }
    redirectAfterPost(ctx, '/admin/site?done=organization-renamed#organizations');
  }));
  const showDelete = async (ctx: RouterContext, actor: User, status = 200, problem?: FormProblem) => {
    const overview = await organizations.overviewOne(actor, slug(ctx));
    render(ctx, 'admin/organization-delete', { title: `Delete ${overview.organization.name}`, actor, overview, problem, retentionDays: config.auditRetentionDays }, status);
  };
  router.get('/site/organizations/:slug/delete', page(showDelete));
  router.post('/site/organizations/:slug/delete', page(async (ctx, actor) => {
    requireSiteWide(actor);
    const form = await readForm(ctx);
    try {
      await organizations.delete(actor, slug(ctx), form.field('confirm'), ctx.ip);
    } catch (error) {
      const { problem, status } = problemOf(error, { confirm: form.field('confirm') });
      return showDelete(ctx, actor, status, problem);
    }
    redirectAfterPost(ctx, '/admin/site?done=organization-deleted#organizations');
  }));

  // Applications.
  const showSecret = (ctx: RouterContext, actor: User, view: { client: Awaited<ReturnType<typeof clients.get>>; secret: string | null; rotated: boolean; previousSecretExpiresAt?: Date | null }) => {
    render(ctx, 'admin/application-secret', { title: view.rotated ? 'New client secret' : 'Application registered', actor, issuer: config.issuer, ...view });
  };
  router.post('/site/applications', page(async (ctx, actor) => {
    requireSiteWide(actor);
    const form = await readForm(ctx);
    const values = typed(form, APPLICATION_FIELDS);
    try {
      const { client, secret } = await clients.create(actor, {
        name: values.name!,
        ...(values.clientId ? { clientId: values.clientId } : {}),
        redirectUris: lines(values.redirectUris!),
        postLogoutRedirectUris: lines(values.postLogoutRedirectUris!),
        backchannelLogoutUri: values.backchannelLogoutUri || null,
        confidential: values.kind !== 'public',
        firstParty: values.firstParty === 'on',
      }, ctx.ip);
      showSecret(ctx, actor, { client, secret, rotated: false });
    } catch (error) {
      const { problem, status } = problemOf(error, values);
      await showSite(ctx, actor, status, { applicationProblem: problem });
    }
  }));
  const showRotate = async (ctx: RouterContext, actor: User, status = 200, problem?: FormProblem) => {
    const client = await clients.get(actor, clientId(ctx));
    render(ctx, 'admin/application-rotate', { title: `Rotate the secret of ${client.name}`, actor, client, problem, graceHours: problem?.values.graceHours ?? '0' }, status);
  };
  router.get('/site/applications/:clientId/rotate-secret', page(showRotate));
  router.post('/site/applications/:clientId/rotate-secret', page(async (ctx, actor) => {
    requireSiteWide(actor);
    const form = await readForm(ctx);
    try {
      const { client, secret, previousSecretExpiresAt } = await clients.rotateSecret(actor, clientId(ctx), form.field('graceHours'), ctx.ip);
      showSecret(ctx, actor, { client, secret, rotated: true, previousSecretExpiresAt });
    } catch (error) {
      const { problem, status } = problemOf(error, { graceHours: form.field('graceHours') });
      await showRotate(ctx, actor, status, problem);
    }
  }));
  router.get('/site/applications/:clientId/delete', page(async (ctx, actor) => {
    const client = await clients.get(actor, clientId(ctx));
    render(ctx, 'admin/application-delete', { title: `Delete ${client.name}`, actor, client });
  }));
  router.post('/site/applications/:clientId/delete', page(async (ctx, actor) => {
    requireSiteWide(actor);
    await readForm(ctx);
    await clients.delete(actor, clientId(ctx), ctx.ip);
    redirectAfterPost(ctx, '/admin/site?done=application-deleted#applications');
  }));

  // Users.
  const showUser = async (ctx: RouterContext, actor: User, status = 200, error?: string) => {
    const profile = await users.profile(actor, userId(ctx));
    render(ctx, 'admin/user', { title: profile.user.email, actor, profile, notice: notice(ctx), error }, status);
  };
  router.get('/site/users/:userId', page(showUser));
  const userAction = (action: (ctx: RouterContext, actor: User, form: Form) => Promise<string>) => page(async (ctx, actor) => {
    const form = await readForm(ctx);
    let done: string;
    try {
      done = await action(ctx, actor, form);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      return showUser(ctx, actor, error.status, error.message);
    }
    redirectAfterPost(ctx, `/admin/site/users/${encodeURIComponent(userId(ctx))}?done=${done}`);
  });
  router.post('/site/users/:userId/managed-by', userAction(async (ctx, actor, form) => {
    await users.handTo(actor, userId(ctx), form.field('organization'), ctx.ip);
    return 'managed-by';
  }));
  router.post('/site/users/:userId/password-again', userAction(async (ctx, actor) => {
    await users.returnToPassword(actor, userId(ctx), ctx.ip);
    return 'password-again';
  }));
  router.get('/site/users/:userId/disable-2fa', page(async (ctx, actor) => {
    const profile = await users.profile(actor, userId(ctx));
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
    await users.disableTwoFactor(actor, userId(ctx), ctx.ip, form.field('reason'));
    redirectAfterPost(ctx, `/admin/site/users/${encodeURIComponent(userId(ctx))}?done=disabled`);
  }));
  router.get('/site/audit', page(async (ctx, actor) => {
    const log = await organizations.siteAuditLog(actor, ctx.query.page);
    render(ctx, 'admin/audit', { title: 'Site audit log', actor, ...log, basePath: '/admin/site/audit', describe: describeAuditEvent });
  }));
}
