/**
 * An audit entry's details with every mention of `email` replaced by the pseudonym (an erased
 * account): the whole address, in any case, not a part of a longer one.
 */
export function pseudonymizedDetails<T extends Record<string, unknown>>(details: T, email: string, pseudonym: string): T {
  const pattern = new RegExp(`(?<![\\w.+-])${email.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-]|\\.[\\w-])`, 'gi');
  return Object.fromEntries(Object.entries(details).map(([name, value]) => [name, typeof value === 'string' ? value.replace(pattern, () => pseudonym) : value])) as T;
}
