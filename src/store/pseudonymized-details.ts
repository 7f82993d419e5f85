/** An audit entry's details with every mention of `email` replaced by the pseudonym (an erased account). */
export function pseudonymizedDetails<T extends Record<string, unknown>>(details: T, email: string, pseudonym: string): T {
  const pattern = new RegExp(email.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
  return Object.fromEntries(Object.entries(details).map(([name, value]) => [name, typeof value === 'string' ? value.replace(pattern, () => pseudonym) : value])) as T;
}
