import type { Context } from 'koa';

/** Confirmations after a change, chosen by a query parameter from this list (never echoed input). */
const NOTICES: Record<string, string> = {
  saved: 'Saved.',
  invited: 'They already have an account, so they were e-mailed an invitation. They join when they accept it, signed in as themselves.',
  created: 'The member was added and e-mailed an invitation to set a password.',
  'created-managed': 'The member was added. They sign in with your organization\'s identity provider; we e-mailed them how.',
  withdrawn: 'The invitation was withdrawn.',
  removed: 'The member was removed.',
  role: 'The role was changed.',
  disabled: 'Two-factor authentication was disabled. The member was signed out everywhere and e-mailed; they set it up again, with a new QR code, at their next sign-in if it is required.',
  mode: 'The site-wide mode was saved.',
  'identity-provider': 'The identity provider was saved. Accounts it manages sign in there; for them, this organization\'s own Force Two-Factor Authentication no longer applies.',
  'identity-provider-removed': 'The identity provider was removed. Accounts it managed cannot sign in until a site admin lets them set a password here.',
  domains: 'The email domains were saved. New addresses there get an account managed by the identity provider at their first sign-in.',
  trust: 'Saved how far this identity provider is trusted.',
  'managed-by': 'The account now signs in at its organization\'s identity provider.',
  'password-again': 'The account signs in with a password here again. We e-mailed a link to set one.',
  'email-retried': 'The e-mail will be sent again now, and retried for another 24 hours if the mail server does not take it.',
  'organization-created': 'The organization was created. Add its owners and members from its Members page.',
  'organization-created-invited': 'The organization was created. Its first owner already has an account, so they were e-mailed an invitation: they become its owner when they accept it, signed in as themselves.',
  'organization-created-owner': 'The organization was created. Its first owner was e-mailed a link to set a password; once they have, they can sign in and manage it.',
  'organization-created-added': 'The organization was created, with its first owner.',
  'organization-renamed': 'The organization was renamed.',
  'organization-deleted': 'The organization was deleted. Its members keep their accounts; its audit log is kept until it reaches the retention period.',
  'application-deleted': 'The application was deleted. Its grants, codes and tokens were revoked: it can no longer sign anyone in or use a token it was given.',
  suspended: 'The account was suspended. The person was signed out everywhere, the applications they had signed in to were told, and they were e-mailed.',
  reactivated: 'The account was reactivated. The person can sign in again, and was e-mailed.',
  deleted: 'The account was deleted, with its personal data. Its audit entries stay, under a pseudonym.',
  'removed-suspended': 'The member was removed, and their account suspended: they were signed out everywhere, and the applications they had signed in to were told.',
};

export const notice = (ctx: Context) => (typeof ctx.query.done === 'string' ? NOTICES[ctx.query.done] : undefined);

export const redirectAfterPost = (ctx: Context, to: string) => {
  ctx.status = 303;
  ctx.redirect(to);
};
