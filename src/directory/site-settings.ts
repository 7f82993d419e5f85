import type { TwoFactorMode } from '../../config/index.js';
import { ValidationError } from '../errors.js';
import type { SettingsRepository } from '../store/types.js';

export const TWO_FACTOR_MODES: readonly TwoFactorMode[] = ['off', 'optional', 'required'];
const TWO_FACTOR_MODE_KEY = 'site.two_factor_mode';

export function parseTwoFactorMode(raw: string): TwoFactorMode {
  if (!TWO_FACTOR_MODES.includes(raw as TwoFactorMode)) {
    throw new ValidationError(`"${raw}" is not a two-factor mode: use off, optional or required.`, 'mode');
  }
  return raw as TwoFactorMode;
}

/** The site-wide two-factor mode; `optional` until a site admin or operator sets it. */
export async function getSiteTwoFactorMode(settings: SettingsRepository): Promise<TwoFactorMode> {
  const stored = await settings.get(TWO_FACTOR_MODE_KEY);
  return stored === null ? 'optional' : parseTwoFactorMode(stored);
}

export async function setSiteTwoFactorMode(settings: SettingsRepository, mode: TwoFactorMode): Promise<void> {
  await settings.set(TWO_FACTOR_MODE_KEY, mode);
}
