import type { TwoFactorMode } from '../../config/index.js';
import { ForbiddenError, ValidationError } from '../errors.js';
import type { SettingsRepository, Store } from '../store/types.js';
import { actsSiteWide, via, type Actor } from './actor.js';
import type { AuditLog } from './audit-log.js';

export const TWO_FACTOR_MODES: readonly TwoFactorMode[] = ['off', 'optional', 'required'];
const TWO_FACTOR_MODE_KEY = 'site.two_factor_mode';
const SETUP_CONFIRMATION_KEY = 'site.confirm_setup_by_email';

export function parseTwoFactorMode(raw: string): TwoFactorMode {
  if (!TWO_FACTOR_MODES.includes(raw as TwoFactorMode)) {
    throw new ValidationError(`"${raw}" is not a two-factor mode: use off, optional or required.`, 'mode');
  }
  return raw as TwoFactorMode;
}

/** The site-wide two-factor mode; `optional` until a site admin or the operator sets it. */
export async function readSiteTwoFactorMode(settings: SettingsRepository): Promise<TwoFactorMode> {
  const stored = await settings.get(TWO_FACTOR_MODE_KEY);
  return stored === null ? 'optional' : parseTwoFactorMode(stored);
}

/**
 * Whether a first set-up is confirmed by an e-mailed code where no organization decides it (docs/rules.md,
 * "The first set-up belongs to the person"); on until a site admin or the operator turns it off.
 */
export async function readSiteSetupConfirmation(settings: SettingsRepository): Promise<boolean> {
  return (await settings.get(SETUP_CONFIRMATION_KEY)) !== 'off';
}

/** Site-wide settings: what site admins (and the operator) decide for everyone. */
export class Site {
  constructor(private readonly store: Pick<Store, 'settings'>, private readonly audit: AuditLog) {}

  twoFactorMode(): Promise<TwoFactorMode> {
    return readSiteTwoFactorMode(this.store.settings);
  }

  /** The mode, as the site settings show it: to site admins (and the operator) only. */
  twoFactorModeFor(actor: Actor): Promise<TwoFactorMode> {
    if (!actsSiteWide(actor)) throw new ForbiddenError('Only site admins can do this.');
    return this.twoFactorMode();
  }

  /** The site-wide "Confirm first set-up by e-mail", as the site settings show it: to site admins (and the operator) only. */
  setupConfirmationFor(actor: Actor): Promise<boolean> {
    if (!actsSiteWide(actor)) throw new ForbiddenError('Only site admins can do this.');
    return readSiteSetupConfirmation(this.store.settings);
  }

  async setSetupConfirmation(actor: Actor, on: boolean, ip: string | null): Promise<void> {
    const before = await this.setupConfirmationFor(actor);
    if (before === on) return;
    await this.store.settings.set(SETUP_CONFIRMATION_KEY, on ? 'on' : 'off');
    await this.audit.record('site.setup_confirmation_changed', [null], null, { actor, ip, details: { on, before, ...(actor === null ? { via: 'command line' } : {}) } });
  }

  async setTwoFactorMode(actor: Actor, mode: TwoFactorMode, ip: string | null): Promise<void> {
    if (!actsSiteWide(actor)) throw new ForbiddenError('Only site admins can do this.');
    const before = await this.twoFactorMode();
    await this.store.settings.set(TWO_FACTOR_MODE_KEY, mode);
    await this.audit.record('site.two_factor_mode_changed', [null], null, {
      actor,
      ip,
      details: { mode, before, ...via(actor) },
    });
  }
}
