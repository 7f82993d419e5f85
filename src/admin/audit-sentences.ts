import { EMAIL_CODE_TRIES } from '../application/setup-confirmation.js';
import type { AuditEvent } from '../application/types.js';

type Details = AuditEvent['details'];

const someone = (event: AuditEvent) => event.targetEmail ?? 'someone';
const role = (value: unknown) => (value === 'owner' ? 'an owner' : 'a member');
const plural = (count: unknown, noun: string) => `${String(count)} ${noun}${count === 1 ? '' : 's'}`;
const reason = (details: Details) => (details.reason ? ` Reason given: ${String(details.reason)}.` : '');

const ROLLOUT_SETTINGS: Readonly<Record<string, string>> = {
  gracePeriodDays: 'grace period (days)',
  rememberBrowserDays: 'remember a browser for (days)',
  applyTo: 'apply to',
  requiredFactor: 'required second factor',
  confirmSetupByEmail: 'confirm first set-up by e-mail',
};
const NAMED_VALUES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  applyTo: { all: 'all members', owners: 'owners only' },
  requiredFactor: { any: 'any', 'security-key': 'security key or passkey only' },
  confirmSetupByEmail: { true: 'on', false: 'off' },
};
const rolloutValue = (name: string, value: unknown) => NAMED_VALUES[name]?.[String(value)] ?? String(value);
/** "grace period (days) from 0 to 14, apply to from all members to owners only" — each setting with its before and after. */
const rolloutChanges = (details: Details) => Object.keys(ROLLOUT_SETTINGS)
  .filter((name) => `${name}Before` in details)
  .map((name) => `${ROLLOUT_SETTINGS[name]} from ${rolloutValue(name, details[`${name}Before`])} to ${rolloutValue(name, details[`${name}After`])}`)
  .join(', ');

/**
 * Each audit event as a sentence an owner reads at a glance; the JSON API keeps the raw action code.
 * Who did it is said in its own column, so a sentence starts with what happened.
 */
const SENTENCES: Readonly<Record<AuditEvent['action'], (event: AuditEvent, details: Details) => string>> = {
  'policy.changed': (_e, d) => `Force Two-Factor Authentication was switched ${d.forceTwoFactor ? 'on' : 'off'}.`,
  'policy.rollout_changed': (_e, d) => `The rollout settings were changed: ${rolloutChanges(d)}.`,
  'site.setup_confirmation_changed': (_e, d) => `Confirm first set-up by e-mail was switched ${d.on ? 'on' : 'off'} for the whole site.`,
  'second_factor.reported': (e, d) => `${someone(e)} reported that ${d.factor === 'key' ? 'a security key or passkey' : d.factor === 'recovery-codes' ? 'new recovery codes' : 'an authenticator app'} was added without them ("This wasn't me"); it was removed and the account suspended.`,
  'setup.email_code_exhausted': (e) => `A first set-up for ${someone(e)} was stopped after ${EMAIL_CODE_TRIES} wrong e-mailed codes; whoever tried may know the password.`,
  'remembered_browser.added': (e, d) => `${someone(e)} asked to remember a browser for ${String(d.days)} days.`,
  'remembered_browser.removed': (e, d) => `${d.count === undefined ? 'A remembered browser' : `${String(d.count)} remembered browsers`} of ${someone(e)} ${d.count === 1 || d.count === undefined ? 'was' : 'were'} forgotten (${String(d.why)}).`,
  'site.two_factor_mode_changed': (_e, d) => `The site-wide two-factor mode was set to ${String(d.mode)}.`,
  'member.added': (e, d) => (e.targetEmail ? `${e.targetEmail} was added as ${role(d.role)}.` : `Members were added by ${String(d.via ?? 'an import')}: ${String(d.created ?? 0)} new, ${String(d.updated ?? 0)} updated.`),
  'member.removed': (e) => `${someone(e)} was removed.`,
  'member.role_changed': (e, d) => `${someone(e)} was made ${role(d.to)}.`,
  'member.invited': (e, d) => `${someone(e)} was invited as ${role(d.role)}${d.account === 'existing' ? ' (an existing account: it joins when it accepts)' : ''}.`,
  'member.joined': (e, d) => `${someone(e)} accepted the invitation and joined as ${role(d.role)}.`,
  'member.invitation_declined': (e) => `${someone(e)} declined the invitation.`,
  'member.invitation_withdrawn': (e) => `The invitation to ${someone(e)} was withdrawn.`,
  'two_factor.enabled': (e) => `${someone(e)} turned two-factor authentication on.`,
  'two_factor.disabled': (e) => `${someone(e)} turned two-factor authentication off.`,
  'two_factor.reset_by_admin': (e, d) => `Two-factor authentication of ${someone(e)} was disabled (a lost device).${reason(d)}`,
  'two_factor.replaced': (e) => `${someone(e)} set up a new authenticator app.`,
  'security_key.added': (e, d) => `${someone(e)} added the security key or passkey “${String(d.name)}”.`,
  'security_key.removed': (e, d) => `${someone(e)} removed the security key or passkey “${String(d.name)}”.`,
  'security_key.counter_regressed': (e, d) => `The security key “${String(d.name)}” of ${someone(e)} answered with a signature counter that went backwards (${String(d.counter)}, after ${String(d.stored)}): it may have been copied. The sign-in was refused.`,
  'recovery_code.used': (e, d) => `${someone(e)} signed in with a recovery code; ${String(d.remaining)} left.`,
  'recovery_codes.regenerated': (e) => `${someone(e)} made a new set of recovery codes.`,
  'second_factor.locked': (e, d) => `The second factor of ${someone(e)} was locked after ${String(d.failures)} wrong codes in a row.`,
  'passcode.replayed': (e) => `A passcode of ${someone(e)} was sent a second time and refused.`,
  'federation.changed': (_e, d) => (d.issuer ? `The identity provider was set to ${String(d.issuer)}.` : 'The identity provider was removed.'),
  'federation.domains_changed': (_e, d) => `The email domains were changed from “${String(d.before || 'none')}” to “${String(d.after || 'none')}”.`,
  'federation.trust_changed': (_e, d) => `The identity provider's two-factor sign-in is ${d.trustedForTwoFactor ? 'now trusted' : 'no longer trusted'}.`,
  'federation.linked': (e) => `${someone(e)} was linked to their account at the identity provider.`,
  'federation.link_refused': (e, d) => `An identity provider${d.organization ? ` (of ${String(d.organization)})` : ''} asserted ${e.targetEmail ? `the account ${e.targetEmail}` : 'an account'} it does not manage; refused.`,
  'account.managed_by_changed': (e, d) => (d.organization ? `${someone(e)} now signs in at the identity provider of ${String(d.organization)}.` : `${someone(e)} signs in with a password here again.`),
  'account.password_set': (e) => `${someone(e)} set a password from an invitation link.`,
  'account.password_changed': (e) => `${someone(e)} changed their password.`,
  'account.password_reset': (e) => `${someone(e)} set a new password from a reset link; every session was ended.`,
  'account.suspended': (e, d) => `The account of ${someone(e)} was suspended: every session ended, and the applications were told.${reason(d)}`,
  'account.reactivated': (e, d) => `The account of ${someone(e)} was reactivated.${reason(d)}`,
  'account.deleted': (e, d) => `The account of ${someone(e)} was deleted, with its personal data.${reason(d)}`,
  'email.retried': (_e, d) => `The e-mail “${String(d.subject)}” to ${String(d.to)}, given up on, is being sent again.`,
  'organization.created': (_e, d) => `The organization ${String(d.name)} (${String(d.slug)}) was created.`,
  'organization.renamed': (_e, d) => `The organization ${String(d.slug)} was renamed from “${String(d.before)}” to “${String(d.name)}”.`,
  'organization.deleted': (_e, d) => `The organization ${String(d.name)} (${String(d.slug)}) was deleted${d.members ? `; its ${plural(d.members, 'member')} kept their accounts` : ''}${d.managedAccounts ? `; ${plural(d.managedAccounts, 'account')} its identity provider managed ${d.managedAccounts === 1 ? 'was' : 'were'} e-mailed a link to set a password here` : ''}.`,
  'client.registered': (_e, d) => `The ${d.confidential ? 'confidential' : 'public'} application ${String(d.name)} (${String(d.clientId)}) was registered${d.firstParty ? ' as first-party' : ''}.`,
  'client.secret_rotated': (_e, d) => `The client secret of ${String(d.clientId)} was rotated; ${d.graceHours ? `the old one works for ${plural(d.graceHours, 'more hour')}` : 'the old one stopped working at once'}.`,
  'client.deleted': (_e, d) => `The application ${String(d.name)} (${String(d.clientId)}) was deleted; its grants, codes and tokens were revoked (${String(d.revoked)} in all).`,
  'action.refused': (e, d) => `Refused: ${REFUSED[String(d.attempted)] ?? String(d.attempted)}${e.targetEmail ? ` for ${e.targetEmail}` : ''} (${String(d.reason)}).`,
};

const REFUSED: Readonly<Record<string, string>> = {
  'two_factor.reset': 'disabling two-factor authentication',
  'federation.domains': 'assigning email domains',
  'federation.trust': 'trusting the identity provider for two-factor',
  'account.suspend': 'suspending the account',
  'account.reactivate': 'reactivating the account',
  'account.delete': 'deleting the account',
};

export function describeAuditEvent(event: AuditEvent): string {
  return SENTENCES[event.action](event, event.details);
}
