import type { TwoFactorMode } from '../../config/index.js';
import { ForbiddenError, ValidationError } from '../errors.js';
import type { SettingsRepository, Store } from '../store/types.js';
import { actsSiteWide, via, type Actor } from './actor.js';
import type { AuditLog } from './audit-log.js';

export const TWO_FACTOR_MODES: readonly TwoFactorMode[] = ['off', 'optional', 'required'];
const TWO_FACTOR_MODE_KEY = 'site.two_factor_mode';

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
