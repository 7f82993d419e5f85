import type { MemberRow } from '../application/members.js';
import { writeCsv } from './csv.js';
import type { ImportFormat } from './read-records.js';

export const EXPORT_COLUMNS = ['email', 'name', 'role', 'two_factor', 'strongest_factor', 'recovery_codes_remaining', 'security_keys', 'last_sign_in_at', 'setup_deadline'] as const;
const STRONGEST: Readonly<Record<NonNullable<MemberRow['strongestFactor']>, string>> = { 'security-key': 'security key or passkey', app: 'authenticator app' };

/**
 * The compliance report owners ask for before switching enforcement on: every member with role and
 * two-factor status and setup deadline, as CSV or JSON Lines. No secrets: no hashes, no keys, no codes.
 */
export function exportMembers(members: readonly MemberRow[], format: ImportFormat): string {
  const rows = members.map((member) => ({
    email: member.user.email,
    name: member.user.name,
    role: member.role,
    two_factor: member.enrolled ? 'enrolled' : 'not enrolled',
    strongest_factor: member.strongestFactor ? STRONGEST[member.strongestFactor] : '',
    recovery_codes_remaining: member.recoveryCodesRemaining,
    security_keys: member.securityKeys,
    last_sign_in_at: member.user.lastSignInAt?.toISOString() ?? '',
    setup_deadline: member.deadline?.toISOString() ?? '',
  }));
  if (format === 'jsonl') return rows.map((row) => JSON.stringify(row)).join('\n') + (rows.length ? '\n' : '');
  return writeCsv(EXPORT_COLUMNS, rows);
}
