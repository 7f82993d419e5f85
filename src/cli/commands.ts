import { OPERATOR } from '../application/actor.js';
import type { Application } from '../application/index.js';
import { parseRole } from '../application/members.js';
import { parseTwoFactorMode } from '../application/site.js';
import type { Role } from '../application/types.js';
import { MAX_SECRET_GRACE_HOURS } from '../application/validation.js';
import { ValidationError } from '../errors.js';
import { exportMembers } from '../import/member-export.js';
import { readCsv, readJsonLines, type ImportFormat } from '../import/read-records.js';
import { UsageError, one, onOff, positionals, required, type OptionSpec, type ParsedArgs } from './args.js';

/**
 * What a command works with: the application layer — every command acts as the operator, through the
 * same rules, audit entries and e-mails as the pages — and the terminal.
 */
export interface CommandContext {
  readonly application: Application;
  readStdin(): Promise<string>;
  readFile(file: string): Promise<string>;
  progress?(text: string): void;
}

/** What a command prints: its output, any problems (one line each, on stderr), and its exit status. */
export interface CommandResult {
  readonly out: string;
  readonly problems?: readonly string[];
  readonly status?: number;
}

export interface Command {
  readonly usage: string;
  readonly summary: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  run(args: ParsedArgs, context: CommandContext): Promise<string | CommandResult>;
}

function formatOf(args: ParsedArgs, file: string): ImportFormat {
  const given = one(args, 'format');
  if (given !== undefined) {
    if (given !== 'csv' && given !== 'jsonl') throw new UsageError(`--format takes csv or jsonl, not "${given}".`);
    return given;
  }
  if (/\.csv$/i.test(file)) return 'csv';
  if (/\.(jsonl|ndjson)$/i.test(file)) return 'jsonl';
  throw new UsageError('Say --format csv or --format jsonl (the file name does not tell).');
}

/** A role typed on the command line: a mistyped one is a usage error. */
function roleOption(raw: string): Role {
  try {
    return parseRole(raw);
  } catch (error) {
    if (error instanceof ValidationError) throw new UsageError(error.message);
    throw error;
  }
}

function parseOrgAssignment(raw: string): { slug: string; role: Role } {
  const [slug, role, extra] = raw.split(':');
  if (!slug || extra !== undefined) throw new UsageError(`--org takes <slug> or <slug>:owner, not "${raw}".`);
  return { slug, role: role === undefined ? 'member' : roleOption(role) };
}

async function passwordFrom(args: ParsedArgs, context: CommandContext): Promise<string | undefined> {
  const given = one(args, 'password');
  if (given !== undefined && args.flags.has('password-stdin')) throw new UsageError('Give --password or --password-stdin, not both.');
  if (args.flags.has('password-stdin')) return (await context.readStdin()).replace(/\r?\n$/, '');
  return given;
}

export const COMMANDS: Readonly<Record<string, Command>> = {
  'org create': {
    usage: 'org create <slug> --name <name> [--owner <email>]',
    summary: 'Create an organization; --owner makes its first owner (an existing account directly, a new address gets an account and an e-mailed link to set its password).',
    options: { name: { value: true }, owner: { value: true } },
    async run(args, { application }) {
      const [slug] = positionals(args, ['slug']);
      const owner = one(args, 'owner');
      const { organization, owner: added } = await application.organizationSetup.create(OPERATOR, { slug: slug!, name: required(args, 'name'), ...(owner === undefined ? {} : { ownerEmail: owner }) });
      const ownerText = added ? ` ${added.user.email} is its owner${added.outcome === 'created' ? ' and was e-mailed a link to set a password' : ''}.` : '';
      return `Created organization "${organization.slug}" (${organization.name}).${ownerText}`;
    },
  },
  'org rename': {
    usage: 'org rename <slug> --name <name>',
    summary: 'Give an organization a new name (its slug stays).',
    options: { name: { value: true } },
    async run(args, { application }) {
      const [slug] = positionals(args, ['slug']);
      const organization = await application.organizations.rename(OPERATOR, slug!, required(args, 'name'));
      return `"${organization.slug}" is now called ${organization.name}.`;
    },
  },
  'org delete': {
    usage: 'org delete <slug> --confirm <slug>',
    summary: 'Delete an organization (type its slug again after --confirm). Its members keep their accounts; its audit log is kept until AUDIT_RETENTION_DAYS.',
    options: { confirm: { value: true } },
    async run(args, { application }) {
      const [slug] = positionals(args, ['slug']);
      const { organization, members, managedAccounts } = await application.organizations.delete(OPERATOR, slug!, required(args, 'confirm'));
      const managed = managedAccounts ? `; ${managedAccounts} account${managedAccounts === 1 ? '' : 's'} its identity provider managed ${managedAccounts === 1 ? 'was' : 'were'} e-mailed a link to set a password here` : '';
      return `Deleted organization "${organization.slug}" (${organization.name}); its ${members} member${members === 1 ? '' : 's'} kept their accounts${managed}.`;
    },
  },
  'org set': {
    usage: 'org set <slug> [--force-2fa on|off] [--grace-days N] [--remember-days N] [--apply-to all|owners] [--required-factor any|security-key] [--confirm-setup-by-email on|off]',
    summary: "Change an organization's Force Two-Factor Authentication and how it is rolled out: the grace period, how long a browser may be remembered (days, 0–90), whether it applies to all members or owners only, which second factor members must have, and whether a first set-up needs a code e-mailed to the member.",
    options: {
      'force-2fa': { value: true }, 'grace-days': { value: true }, 'remember-days': { value: true }, 'apply-to': { value: true }, 'required-factor': { value: true }, 'confirm-setup-by-email': { value: true },
    },
    async run(args, { application }) {
      const [slug] = positionals(args, ['slug']);
      if (args.values.size === 0) throw new UsageError('Say what to set: --force-2fa, --grace-days, --remember-days, --apply-to, --required-factor or --confirm-setup-by-email.');
      const force = one(args, 'force-2fa');
      const on = force === undefined ? undefined : onOff(force, 'force-2fa');
      // The rollout first: it checks every value before anything changes, and a switch-on e-mail then names the new deadline.
      const organization = await application.organizations.setRollout(OPERATOR, slug!, {
        gracePeriodDays: one(args, 'grace-days'),
        rememberBrowserDays: one(args, 'remember-days'),
        applyTo: one(args, 'apply-to'),
        requiredFactor: one(args, 'required-factor'),
        confirmSetupByEmail: one(args, 'confirm-setup-by-email'),
      }, null);
      const rolloutGiven = ['grace-days', 'remember-days', 'apply-to', 'required-factor', 'confirm-setup-by-email'].some((name) => args.values.has(name));
      const lines = rolloutGiven ? [
        `"${slug}": grace period ${organization.gracePeriodDays} days, browsers remembered for ${organization.rememberBrowserDays} days, applies to ${organization.applyTo === 'owners' ? 'owners only' : 'all members'}, `
        + `${organization.requiredFactor === 'security-key' ? 'a security key or passkey required' : 'any second factor'}, first set-up ${organization.confirmSetupByEmail ? '' : 'not '}confirmed by e-mail.`,
      ] : [];
      if (on !== undefined) {
        const { notified } = await application.organizations.setForceTwoFactor(OPERATOR, slug!, on, null);
        const mailed = notified ? ` ${notified} member${notified === 1 ? '' : 's'} without it ${notified === 1 ? 'was' : 'were'} e-mailed.` : '';
        lines.unshift(`Force Two-Factor Authentication is ${on ? 'on' : 'off'} for "${slug}".${mailed}`);
      }
      return lines.join('\n');
    },
  },
  'org federate': {
    usage: 'org federate <slug> --issuer <url> --client-id <id> --client-secret <secret> [--domain <domain>]... [--trust-2fa on|off] [--unchecked] | org federate <slug> --off',
    summary: "Sign an organization's managed accounts in at its own OpenID provider (checked first: its discovery document must answer; --unchecked saves without); --domain gives it new addresses at that domain, --trust-2fa lets the provider's second factor count. Prints the redirect URI to register there.",
    options: {
      issuer: { value: true },
      'client-id': { value: true },
      'client-secret': { value: true },
      domain: { value: true, repeatable: true },
      'trust-2fa': { value: true },
      unchecked: { value: false },
      off: { value: false },
    },
    async run(args, { application: { organizations, federation } }) {
      const [slug] = positionals(args, ['slug']);
      let organization = await organizations.get(OPERATOR, slug!);
      if (args.flags.has('off')) {
        if (args.values.size > 0) throw new UsageError('--off takes no other options.');
        await federation.remove(null, organization, null);
        return `"${organization.slug}" no longer signs in at an identity provider; the accounts it managed need a password here (twofold user federate <email> --off e-mails a link to set one).`;
      }
      const clientSecret = organization.federation ? one(args, 'client-secret') : required(args, 'client-secret');
      const trust = one(args, 'trust-2fa');
      const trusted = trust === undefined ? undefined : onOff(trust, 'trust-2fa');
      // Domains are checked before anything is saved, so a bad one changes nothing.
      const domains = args.values.get('domain');
      const outside = domains ? (await federation.previewDomains(null, organization, domains, null)).reduce((sum, preview) => sum + preview.outsideTotal, 0) : 0;
      organization = await federation.configure(null, organization, {
        issuer: required(args, 'issuer'),
        clientId: required(args, 'client-id'),
        ...(clientSecret === undefined ? {} : { clientSecret }),
      }, null, { unchecked: args.flags.has('unchecked') });
      if (domains) organization = await federation.assignDomains(null, organization, domains, null);
      if (trusted !== undefined) await federation.setTrustedForTwoFactor(null, organization, trusted, null);
      const kept = outside ? ` ${outside} existing account${outside === 1 ? '' : 's'} outside it at ${domains!.length === 1 ? 'that domain keeps' : 'those domains keep'} signing in here.` : '';
      return `"${organization.slug}" now signs in at its identity provider.${kept} Register this redirect URI there: ${federation.callbackUrl(organization.slug)}`;
    },
  },
  'user federate': {
    usage: 'user federate <email> --org <slug> | user federate <email> --off',
    summary: "Hand a member's account to their organization's identity provider (they sign in there; the password here is removed), or with --off back to a password here (they are e-mailed a link to set one).",
    options: { org: { value: true }, off: { value: false } },
    async run(args, { application: { users, organizations } }) {
      const [email] = positionals(args, ['email']);
      const user = await users.byEmail(OPERATOR, email!);
      if (args.flags.has('off')) {
        if (args.values.size > 0) throw new UsageError('--off takes no other options.');
        await users.returnToPassword(OPERATOR, user.id, null);
        return `${user.email} signs in with a password here again; they were e-mailed a link to set one.`;
      }
      const organization = await organizations.get(OPERATOR, required(args, 'org'));
      await users.handTo(OPERATOR, user.id, organization.slug, null);
      return `${user.email} now signs in at ${organization.name}'s identity provider.`;
    },
  },
  'user create': {
    usage: 'user create <email> (--password <pw> | --password-stdin) [--name <name>] [--org <slug>[:owner]]... [--site-admin]',
    summary: 'Create a user, optionally a member or owner of organizations and a site admin.',
    options: {
      password: { value: true },
      'password-stdin': { value: false },
      name: { value: true },
      org: { value: true, repeatable: true },
      'site-admin': { value: false },
    },
    async run(args, context) {
      const [email] = positionals(args, ['email']);
      const orgs = (args.values.get('org') ?? []).map(parseOrgAssignment);
      const user = await context.application.users.create(OPERATOR, {
        email: email!,
        name: one(args, 'name'),
        password: await passwordFrom(args, context),
        orgs,
        siteAdmin: args.flags.has('site-admin'),
      });
      const where = orgs.length ? ` in ${orgs.map((org) => `${org.slug} (${org.role})`).join(', ')}` : '';
      return `Created user ${user.email}${user.siteAdmin ? ' (site admin)' : ''}${where}.`;
    },
  },
  'user import': {
    usage: 'user import <file|-> [--format csv|jsonl] [--update] [--dry-run] [--all-or-nothing]',
    summary: 'Create users (and memberships) from a CSV or JSON Lines file; existing hashes in PHC format are kept. "-" reads standard input.',
    options: { format: { value: true }, update: { value: false }, 'dry-run': { value: false }, 'all-or-nothing': { value: false } },
    async run(args, context) {
      const [file] = positionals(args, ['file']);
      const format = formatOf(args, file!);
      const text = file === '-' ? await context.readStdin() : await context.readFile(file!);
      const { records, errors } = format === 'csv' ? readCsv(text) : readJsonLines(text);
      const report = await context.application.userImport.run(OPERATOR, records, errors, {
        update: args.flags.has('update'),
        dryRun: args.flags.has('dry-run'),
        allOrNothing: args.flags.has('all-or-nothing'),
        ...(context.progress ? { progress: (done: number, total: number) => context.progress!(`imported ${done}/${total}`) } : {}),
      });
      const verb = report.written ? 'Created' : args.flags.has('dry-run') ? 'Dry run, nothing written: would create' : 'Nothing written (--all-or-nothing): would have created';
      const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
      const out = `${verb} ${count(report.created, 'user')}, updated ${report.updated}, skipped ${report.skipped.length} that already exist${report.skipped.length ? ' (--update adds their memberships)' : ''}; ${count(report.errors.length, 'line')} failed.`;
      return {
        out,
        problems: [
          ...report.errors.map((error) => `line ${error.line}: ${error.reason}`),
          ...report.skipped.map((skip) => `line ${skip.line}: ${skip.email} already exists; skipped`),
        ],
        status: report.errors.length > 0 ? 1 : 0,
      };
    },
  },
  'member export': {
    usage: 'member export <org> [--format csv|jsonl]',
    summary: "Write the organization's members with role and 2FA status (the compliance report); no secrets.",
    options: { format: { value: true } },
    async run(args, { application }) {
      const [slug] = positionals(args, ['org']);
      const format = one(args, 'format') ?? 'csv';
      if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`--format takes csv or jsonl, not "${format}".`);
      return exportMembers(await application.members.exportRows(OPERATOR, slug!), format).replace(/\n$/, '');
    },
  },
  'member add': {
    usage: 'member add <org> <email> [--role owner|member]',
    summary: 'Add an existing user to an organization, or change their role (an organization always keeps an owner).',
    options: { role: { value: true } },
    async run(args, { application }) {
      const [slug, email] = positionals(args, ['org', 'email']);
      const role = roleOption(one(args, 'role') ?? 'member');
      await application.users.byEmail(OPERATOR, email!);
      await application.members.add(OPERATOR, slug!, { email: email!, role }, null);
      return `${email!.toLowerCase()} is now ${role === 'owner' ? 'an owner' : 'a member'} of "${slug}".`;
    },
  },
  'client create': {
    usage: 'client create <client-id> --redirect-uri <url>... [--post-logout-redirect-uri <url>]... [--backchannel-logout-uri <url>] [--secret <secret>] [--name <name>] [--first-party]',
    summary: 'Register a relying party. Without --secret it is a public client (PKCE only). With --backchannel-logout-uri it is sent a logout token whenever a session it signed in to ends.',
    options: {
      'redirect-uri': { value: true, repeatable: true },
      'post-logout-redirect-uri': { value: true, repeatable: true },
      'backchannel-logout-uri': { value: true },
      secret: { value: true },
      name: { value: true },
      'first-party': { value: false },
    },
    async run(args, { application }) {
      const [clientId] = positionals(args, ['client-id']);
      const redirectUris = args.values.get('redirect-uri') ?? [];
      if (redirectUris.length === 0) throw new UsageError('--redirect-uri is required.');
      const { client } = await application.clients.create(OPERATOR, {
        clientId: clientId!,
        name: one(args, 'name'),
        redirectUris,
        postLogoutRedirectUris: args.values.get('post-logout-redirect-uri') ?? [],
        secret: one(args, 'secret'),
        firstParty: args.flags.has('first-party'),
        backchannelLogoutUri: one(args, 'backchannel-logout-uri'),
      });
      const kind = client.sealedSecret ? 'confidential (client_secret_basic)' : 'public (PKCE, no secret)';
      const told = client.backchannelLogoutUri ? `; logout tokens go to ${client.backchannelLogoutUri}` : '';
      return `Created ${client.firstParty ? 'first-party ' : ''}${kind} client "${client.clientId}"${told}.`;
    },
  },
  'client list': {
    usage: 'client list',
    summary: 'List the registered relying parties: client id, kind, name and redirect URIs, one per line.',
    options: {},
    async run(args, { application }) {
      positionals(args, []);
      const clients = await application.clients.list(OPERATOR);
      if (clients.length === 0) return 'No applications are registered.';
      return clients.map((client) => [
        client.clientId,
        client.sealedSecret ? 'confidential' : 'public',
        client.firstParty ? 'first-party' : 'third-party',
        JSON.stringify(client.name),
        client.redirectUris.join(' '),
      ].join('\t')).join('\n');
    },
  },
  'client rotate-secret': {
    usage: 'client rotate-secret <client-id> [--grace-hours N]',
    summary: `Give a confidential client a new secret, printed once; the old one keeps working for N hours (0 to ${MAX_SECRET_GRACE_HOURS}; default 0: it stops at once).`,
    options: { 'grace-hours': { value: true } },
    async run(args, { application }) {
      const [clientId] = positionals(args, ['client-id']);
      const { client, secret, previousSecretExpiresAt } = await application.clients.rotateSecret(OPERATOR, clientId!, one(args, 'grace-hours'));
      const old = previousSecretExpiresAt ? `the old one works until ${previousSecretExpiresAt.toISOString().replace('T', ' ').slice(0, 16)} UTC` : 'the old one no longer works';
      return `New client secret for "${client.clientId}" (shown only now; ${old}): ${secret}`;
    },
  },
  'client delete': {
    usage: 'client delete <client-id>',
    summary: 'Delete a relying party and revoke everything issued to it (grants, codes, access and refresh tokens).',
    options: {},
    async run(args, { application }) {
      const [clientId] = positionals(args, ['client-id']);
      const { client, revoked } = await application.clients.delete(OPERATOR, clientId!);
      return `Deleted client "${client.clientId}"; its grants, codes and tokens were revoked (${revoked} in all).`;
    },
  },
  'site set': {
    usage: 'site set [--2fa off|optional|required] [--confirm-setup-by-email on|off]',
    summary: 'Set the site-wide two-factor mode, and whether a first set-up is confirmed by an e-mailed code where no organization decides it.',
    options: { '2fa': { value: true }, 'confirm-setup-by-email': { value: true } },
    async run(args, { application }) {
      positionals(args, []);
      if (args.values.size === 0) throw new UsageError('Say what to set: --2fa or --confirm-setup-by-email.');
      const given = one(args, '2fa');
      const mode = given === undefined ? undefined : parseTwoFactorMode(given);
      const confirm = one(args, 'confirm-setup-by-email');
      const on = confirm === undefined ? undefined : onOff(confirm, 'confirm-setup-by-email');
      const lines: string[] = [];
      if (mode !== undefined) {
        await application.site.setTwoFactorMode(OPERATOR, mode, null);
        lines.push(`Site-wide two-factor mode is now ${mode}.`);
      }
      if (on !== undefined) {
        await application.site.setSetupConfirmation(OPERATOR, on, null);
        lines.push(`A first set-up is ${on ? 'now' : 'no longer'} confirmed by an e-mailed code, where no organization decides it.`);
      }
      return lines.join('\n');
    },
  },
  'user suspend': {
    usage: 'user suspend <email> --reason <text>',
    summary: 'Suspend an account: it is signed out everywhere, its tokens stop working, the applications it signed in to are told, and it cannot sign in until reactivated. Audited; the person is e-mailed.',
    options: { reason: { value: true } },
    async run(args, { application: { users } }) {
      const [email] = positionals(args, ['email']);
      const user = await users.suspend(OPERATOR, (await users.byEmail(OPERATOR, email!)).id, required(args, 'reason'), null);
      return `${user.email} is suspended: signed out everywhere, the applications told, and e-mailed.`;
    },
  },
  'user reactivate': {
    usage: 'user reactivate <email> --reason <text>',
    summary: 'Let a suspended account sign in again, as it was. Audited; the person is e-mailed.',
    options: { reason: { value: true } },
    async run(args, { application: { users } }) {
      const [email] = positionals(args, ['email']);
      const user = await users.reactivate(OPERATOR, (await users.byEmail(OPERATOR, email!)).id, required(args, 'reason'), null);
      return `${user.email} is active again and was e-mailed.`;
    },
  },
  'user delete': {
    usage: 'user delete <email> --confirm <email> [--reason <text>]',
    summary: 'Delete an account and its personal data (its audit entries stay under a pseudonym; the address can be used again). --confirm repeats the email.',
    options: { confirm: { value: true }, reason: { value: true } },
    async run(args, { application: { users } }) {
      const [email] = positionals(args, ['email']);
      const confirmEmail = required(args, 'confirm');
      const user = await users.delete(OPERATOR, (await users.byEmail(OPERATOR, email!)).id, { confirmEmail, reason: one(args, 'reason') }, null);
      return `${user.email} is deleted; its audit entries are kept under a pseudonym.`;
    },
  },
  'user disable-2fa': {
    usage: 'user disable-2fa <email> --reason <text>',
    summary: "Break-glass: turn off a user's 2FA (lost device, even the last site admin's). Audited; the user is signed out and e-mailed.",
    options: { reason: { value: true } },
    async run(args, { application: { users } }) {
      const [email] = positionals(args, ['email']);
      const reason = required(args, 'reason').trim();
      if (!reason) throw new UsageError('--reason must say why (it is kept in the audit log and e-mailed to the user).');
      const user = await users.disableTwoFactor(OPERATOR, (await users.byEmail(OPERATOR, email!)).id, null, reason);
      return `Two-factor authentication is off for ${user.email}; they were signed out everywhere and e-mailed.`;
    },
  },
};
