import { ValidationError } from '../errors.js';
import type { RolloutSettings } from '../store/types.js';

/*
 * Input rules shared by the command line, the seeding and (later) the admin pages. Each returns the
 * normalized value or throws a ValidationError whose message can be shown as it is.
 */

// Deliberately simple (one @, a dot in the domain, no spaces): mail delivery is the real test.
const EMAIL = /^[^\s\p{Cc}@"<>()[\]\\,;:]+@[^\s\p{Cc}@"<>()[\]\\,;:]+\.[^\s\p{Cc}@"<>()[\]\\,;:]+$/u;

/** Worth looking up at all: no control characters (a NUL byte, say), and not longer than an email can be. */
export function isLookupableEmail(raw: string): boolean {
  return raw.length > 0 && raw.length <= 254 && !/\p{Cc}/u.test(raw);
}

/** Ids Twofold makes are UUIDs; anything else cannot name a user, so it is not looked up. */
export function isRecordId(raw: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(raw);
}

export function isSlug(raw: string): boolean {
  return /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(raw);
}

export function normalizeEmail(raw: string, field = 'email'): string {
  const email = raw.trim().toLowerCase();
  if (email.length > 254 || !EMAIL.test(email)) throw new ValidationError(`"${raw}" is not a valid email address.`, field);
  return email;
}

export function validateSlug(raw: string): string {
  if (!isSlug(raw)) {
    throw new ValidationError(`"${raw}" is not a valid organization slug: use 1 to 63 lower-case letters, digits and inner dashes.`, 'slug');
  }
  return raw;
}

export function validateName(raw: string, what: string): string {
  const name = raw.trim();
  if (name.length === 0 || name.length > 200) throw new ValidationError(`The ${what} name must be 1 to 200 characters.`, 'name');
  return name;
}

/** NIST SP 800-63B §5.1.1.2: at least 8 characters, and accept long passphrases. */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

export function validatePassword(password: string): string {
  if ([...password].length < PASSWORD_MIN_LENGTH) throw new ValidationError(`The password must have at least ${PASSWORD_MIN_LENGTH} characters.`, 'password');
  if (password.length > PASSWORD_MAX_LENGTH) throw new ValidationError(`The password must have at most ${PASSWORD_MAX_LENGTH} characters.`, 'password');
  return password;
}

export function validateClientId(raw: string): string {
  if (!/^[A-Za-z0-9._~-]{1,128}$/.test(raw)) {
    throw new ValidationError(`"${raw}" is not a valid client id: use 1 to 128 letters, digits, dots, underscores, tildes and dashes.`, 'clientId');
  }
  return raw;
}

/** What a registered URI may be depends on where the site runs (docs/rules.md, "Applications"). */
export interface UriRules {
  readonly production: boolean;
}

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);
const MAX_URI_LENGTH = 2000;

/**
 * A URI an application registers — where codes are sent back, where the person lands after signing
 * out, where logout tokens are posted: absolute, https (plain http only for localhost, and only
 * outside production), no fragment (OAuth 2.0 §3.1.2), no wildcard, no user name or password. The
 * sentence names the URI, since a form may list several; `field` is where it goes.
 */
export function validateRedirectUri(raw: string, { production }: UriRules, field = 'redirectUris'): string {
  const refuse = (why: string) => new ValidationError(`"${raw}" ${why}`, field);
  if (raw.length > MAX_URI_LENGTH) throw new ValidationError(`A URI may have at most ${MAX_URI_LENGTH} characters; "${raw.slice(0, 40)}…" has ${raw.length}.`, field);
  let url: URL;
  try {
    if (/[\s\p{Cc}]/u.test(raw)) throw new TypeError('whitespace');
    url = new URL(raw);
  } catch {
    throw refuse('is not a valid URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse('must be an http or https URL.');
  if (url.hash || raw.includes('#')) throw refuse('must not contain a fragment (#).');
  if (raw.includes('*')) throw refuse('must not contain a wildcard (*): register each address in full.');
  if (url.username || url.password) throw refuse('must not contain a user name or password.');
  if (url.protocol === 'http:') {
    if (production) throw refuse('must be an https URL: this site runs in production, where plain http is refused.');
    if (!LOOPBACK_HOSTS.has(url.hostname)) throw refuse('must be an https URL: plain http is allowed only for localhost.');
  }
  return raw;
}

/** How many URIs of one kind an application may register. */
export const MAX_URIS = 20;

/** A list of URIs, each checked, without repeats; `what` names them in the sentence ("redirect URIs"). */
export function validateUriList(raws: readonly string[], rules: UriRules, field: string, what: string): string[] {
  if (raws.length > MAX_URIS) throw new ValidationError(`Register at most ${MAX_URIS} ${what}.`, field);
  return [...new Set(raws.map((raw) => validateRedirectUri(raw, rules, field)))];
}

export function validateClientSecret(raw: string): string {
  if (raw.length < 32) throw new ValidationError('The client secret must have at least 32 characters.', 'secret');
  if (raw.length > 512) throw new ValidationError('The client secret must have at most 512 characters.', 'secret');
  return raw;
}

/** How long a rotated client secret may keep working: a week at most. */
export const MAX_SECRET_GRACE_HOURS = 168;

/** The hours a rotated secret keeps working, from a form, the API or the command line: 0 when absent. */
export function parseGraceHours(raw: unknown): number {
  if (raw === undefined || raw === '') return 0;
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  if (!/^\d{1,3}$/.test(text) || Number(text) > MAX_SECRET_GRACE_HOURS) {
    throw new ValidationError(`The old secret can keep working for a whole number of hours from 0 to ${MAX_SECRET_GRACE_HOURS}.`, 'graceHours');
  }
  return Number(text);
}

/** Page numbers go into a query's offset: whole numbers from 1 to this only. */
export const MAX_PAGE_NUMBER = 100_000;

/** A page number from a query string: 1 when absent; otherwise a whole number from 1 to MAX_PAGE_NUMBER. */
export function parsePageNumber(raw: unknown): number {
  if (raw === undefined || raw === '') return 1;
  if (typeof raw !== 'string' || !/^[1-9][0-9]{0,5}$/.test(raw) || Number(raw) > MAX_PAGE_NUMBER) {
    throw new ValidationError(`The page number must be a whole number from 1 to ${MAX_PAGE_NUMBER}.`, 'page');
  }
  return Number(raw);
}

/** What a page, the API or the command line sends for the rollout settings; a missing value keeps the current one. */
export interface RolloutInput {
  readonly gracePeriodDays?: unknown;
  readonly rememberBrowserDays?: unknown;
  readonly applyTo?: unknown;
  /** `any` or `security-key`. */
  readonly requiredFactor?: unknown;
  /** A boolean, or from a form or the command line `on`/`off`. */
  readonly confirmSetupByEmail?: unknown;
}

export const ROLLOUT_MAX_DAYS = 90;

function parseDays(raw: unknown, field: string, label: string): number {
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  if (!/^\d{1,3}$/.test(text) || Number(text) > ROLLOUT_MAX_DAYS) {
    throw new ValidationError(`${label} must be a whole number of days from 0 to ${ROLLOUT_MAX_DAYS}.`, field);
  }
  return Number(text);
}

/** The rollout settings after the input, all checked: the first wrong value is refused with a sentence naming its field. */
export function parseRolloutSettings(input: RolloutInput, current: RolloutSettings): RolloutSettings {
  const applyTo = input.applyTo ?? current.applyTo;
  if (applyTo !== 'all' && applyTo !== 'owners') throw new ValidationError('Apply to is either all members (all) or owners only (owners).', 'applyTo');
  const requiredFactor = input.requiredFactor ?? current.requiredFactor;
  if (requiredFactor !== 'any' && requiredFactor !== 'security-key') {
    throw new ValidationError('The required second factor is either any (any) or a security key or passkey only (security-key).', 'requiredFactor');
  }
  return {
    gracePeriodDays: input.gracePeriodDays === undefined ? current.gracePeriodDays : parseDays(input.gracePeriodDays, 'gracePeriodDays', 'The grace period'),
    rememberBrowserDays: input.rememberBrowserDays === undefined ? current.rememberBrowserDays : parseDays(input.rememberBrowserDays, 'rememberBrowserDays', 'How long a browser is remembered'),
    applyTo,
    requiredFactor,
    confirmSetupByEmail: input.confirmSetupByEmail === undefined ? current.confirmSetupByEmail : parseSwitch(input.confirmSetupByEmail, 'confirmSetupByEmail', 'Confirm first set-up by e-mail'),
  };
}

/** A yes/no setting: true or false, or `on`/`off` as forms and the command line send it. */
function parseSwitch(raw: unknown, field: string, label: string): boolean {
  if (raw === true || raw === 'on') return true;
  if (raw === false || raw === 'off') return false;
  throw new ValidationError(`${label} is either on or off.`, field);
}
