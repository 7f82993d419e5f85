/**
 * The e-mails Twofold sends (docs/rules.md, "E-mail"). Each names its pug template in views/mail/ and its subject.
 * None ever contains a secret, a passcode or a recovery code; the one code sent is the code that
 * confirms a first set-up, which proves the mailbox itself (sealed in the outbox until sent, as every body).
 */
export const MESSAGES = {
  'two-factor-enabled': { subject: 'Two-factor authentication is now on for your account' },
  'two-factor-disabled': { subject: 'Two-factor authentication was turned off for your account' },
  'recovery-code-used': { subject: 'A recovery code was used to sign in to your account' },
  'recovery-codes-regenerated': { subject: 'Your recovery codes were replaced' },
  'second-factor-failures': { subject: 'Someone entered your password, but not your passcode' },
  'organization-requires-2fa': { subject: 'Your organization now requires two-factor authentication' },
  'setup-deadline-reminder': { subject: 'Reminder: set up two-factor authentication before your deadline' },
  invitation: { subject: 'You have been invited: set your password' },
  'membership-invitation': { subject: 'You have been invited to join an organization' },
  'account-managed-elsewhere': { subject: 'You now sign in with your organization account' },
  'password-reset': { subject: 'Set a new password' },
  'password-reset-elsewhere': { subject: 'Your account signs in at your organization' },
  'password-changed': { subject: 'Your password was changed' },
  'authenticator-replaced': { subject: 'A new authenticator app is set up for your account' },
  'security-key-added': { subject: 'A security key or passkey was added to your account' },
  'security-key-removed': { subject: 'A security key or passkey was removed from your account' },
  'setup-email-code': { subject: 'Your code to finish setting up two-factor authentication' },
  'factor-reported': { subject: 'A member reported a sign-in method they did not add' },
  'account-suspended': { subject: 'Your account was suspended' },
  'account-reactivated': { subject: 'Your account was reactivated' },
  'account-deleted': { subject: 'Your account was deleted' },
} as const;

export type MessageName = keyof typeof MESSAGES;
