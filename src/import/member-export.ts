import type { Organization, Store } from '../store/types.js';
import type { ImportFormat } from './read-records.js';

export const EXPORT_COLUMNS = ['email', 'name', 'role', 'two_factor', 'recovery_codes_remaining', 'last_sign_in_at'] as const;

const csvCell = (value: string | number) => {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/**
 * The compliance report owners ask for before switching enforcement on: every member with role and
 * two-factor status. No secrets: no hashes, no keys, no codes.
 */
export async function exportMembers(store: Store, organization: Organization, format: ImportFormat): Promise<string> {
  const memberships = await store.memberships.listByOrganization(organization.id);
  const roles = new Map(memberships.map((membership) => [membership.userId, membership.role]));
  const users = await store.users.findByIds(memberships.map((membership) => membership.userId));
  const enrolled = await store.secondFactors.enrolledAmong(users.map((user) => user.id));
  const rows = await Promise.all(users.map(async (user) => {
    const secondFactor = enrolled.has(user.id) ? await store.secondFactors.find(user.id) : null;
    return {
      email: user.email,
      name: user.name,
      role: roles.get(user.id)!,
      two_factor: secondFactor ? 'enrolled' : 'not enrolled',
      recovery_codes_remaining: secondFactor?.recoveryCodes.filter((code) => code.usedAt === null).length ?? 0,
      last_sign_in_at: user.lastSignInAt?.toISOString() ?? '',
    };
  }));
  if (format === 'jsonl') return rows.map((row) => JSON.stringify(row)).join('\n') + (rows.length ? '\n' : '');
  return [EXPORT_COLUMNS.join(','), ...rows.map((row) => EXPORT_COLUMNS.map((column) => csvCell(row[column])).join(','))].join('\n') + '\n';
}
