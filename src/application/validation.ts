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

export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (email.length > 254 || !EMAIL.test(email)) throw new ValidationError(`"${raw}" is not a valid email address.`, 'email');
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
    throw new ValidationError(`"${raw}" is not a valid client id: use 1 to 128 letters, digits and . _ ~ -`, 'clientId');
  }
  return raw;
}

/** An absolute http(s) URL without a fragment; `field` names the input for the sentence. */
function validateHttpUri(raw: string, field: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError(`"${raw}" is not a valid URL.`, field);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ValidationError(`"${raw}" must be an http or https URL.`, field);
  if (url.hash || raw.includes('#')) throw new ValidationError(`"${raw}" must not contain a fragment (#).`, field);
  return raw;
}

/** A redirect URI: absolute http(s), no fragment (OAuth 2.0 §3.1.2). */
export function validateRedirectUri(raw: string): string {
  return validateHttpUri(raw, 'redirectUri');
}

/** Where an application takes logout tokens: absolute http(s), no fragment (OpenID Connect Back-Channel Logout 1.0 §2.2). */
export function validateBackchannelLogoutUri(raw: string): string {
  return validateHttpUri(raw, 'backchannelLogoutUri');
}

export function validateClientSecret(raw: string): string {
  if (raw.length < 32) throw new ValidationError('The client secret must have at least 32 characters.', 'secret');
  if (raw.length > 512) throw new ValidationError('The client secret must have at most 512 characters.', 'secret');
  return raw;
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
  return {
    gracePeriodDays: input.gracePeriodDays === undefined ? current.gracePeriodDays : parseDays(input.gracePeriodDays, 'gracePeriodDays', 'The grace period'),
    rememberBrowserDays: input.rememberBrowserDays === undefined ? current.rememberBrowserDays : parseDays(input.rememberBrowserDays, 'rememberBrowserDays', 'How long a browser is remembered'),
    applyTo,
  };
}
