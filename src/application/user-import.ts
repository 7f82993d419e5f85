import os from 'node:os';
import { ForbiddenError, ValidationError } from '../errors.js';
import type { InputRecord, RecordError } from '../import/read-records.js';
import { hashFormat, hashIsWithinLimits } from '../security/legacy-hashes.js';
import type { PasswordHasher } from '../security/password-hasher.js';
import type { NewUser, Organization, Role, Store } from '../store/types.js';
import { actsSiteWide, type Actor } from './actor.js';
import type { AuditLog } from './audit-log.js';
import { normalizeEmail, validateName, validatePassword, validateSlug } from './validation.js';

export interface ImportOptions {
  /** Add memberships (and roles) to users that already exist, instead of skipping them. */
  readonly update: boolean;
  /** Validate everything and write nothing. */
  readonly dryRun: boolean;
  /** Write nothing when any line is bad. */
  readonly allOrNothing: boolean;
  readonly progress?: (done: number, total: number) => void;
}

export interface ImportReport {
  readonly created: number;
  readonly updated: number;
  readonly skipped: Array<{ line: number; email: string }>;
  readonly errors: RecordError[];
  readonly written: boolean;
}

interface Row {
  readonly line: number;
  readonly email: string;
  readonly name: string;
  readonly password?: string;
  readonly passwordHash?: string;
  readonly orgs: ReadonlyArray<{ slug: string; role: Role }>;
  readonly siteAdmin: boolean;
}

const BATCH = 500;
const KNOWN_FIELDS = new Set(['email', 'name', 'password', 'password_hash', 'orgs', 'site_admin']);

function text(fields: Record<string, unknown>, name: string): string | undefined {
  const value = fields[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ValidationError(`"${name}" must be text`);
  return value;
}

function parseOrgs(value: unknown): Array<{ slug: string; role: Role }> {
  const entries = Array.isArray(value) ? value : typeof value === 'string' ? value.split(';') : value === undefined || value === null ? [] : null;
  if (entries === null) throw new ValidationError('"orgs" must be a list of slug or slug:owner');
  return entries
    .map((entry) => {
      if (typeof entry !== 'string') throw new ValidationError('"orgs" must be a list of slug or slug:owner');
      return entry.trim();
    })
    .filter(Boolean)
    .map((entry) => {
      const [slug, role, extra] = entry.split(':');
      if (extra !== undefined || (role !== undefined && role !== 'owner' && role !== 'member')) throw new ValidationError(`"${entry}" is not slug or slug:owner`);
      return { slug: validateSlug(slug!), role: (role ?? 'member') as Role };
    });
}

function parseFlag(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === false) return false;
  if (value === true) return true;
  if (typeof value === 'string' && ['1', 'true', 'yes'].includes(value.trim().toLowerCase())) return true;
  if (typeof value === 'string' && ['0', 'false', 'no'].includes(value.trim().toLowerCase())) return false;
  throw new ValidationError('"site_admin" must be true or false');
}

/** One record to a row, or the reason it cannot be imported, in words for the operator. */
export function toRow(record: InputRecord): Row {
  const fields = record.fields;
  const unknown = Object.keys(fields).filter((name) => !KNOWN_FIELDS.has(name));
  if (unknown.length) throw new ValidationError(`unknown field ${unknown.map((name) => `"${name}"`).join(', ')}`);
  const rawEmail = text(fields, 'email');
  if (!rawEmail) throw new ValidationError('"email" is missing');
  let email: string;
  try {
    email = normalizeEmail(rawEmail);
  } catch {
    throw new ValidationError(`"${rawEmail}" is not a valid email address`);
  }
  const password = text(fields, 'password');
  const passwordHash = text(fields, 'password_hash');
  if (password !== undefined && passwordHash !== undefined) throw new ValidationError('give "password" or "password_hash", not both');
  if (password === undefined && passwordHash === undefined) throw new ValidationError('give "password" or "password_hash"');
  if (password !== undefined) {
    try {
      validatePassword(password);
    } catch (error) {
      throw new ValidationError((error as Error).message.replace(/\.$/, '').replace(/^The password/, 'the password'));
    }
  }
  if (passwordHash !== undefined && !hashFormat(passwordHash)) {
    throw new ValidationError('"password_hash" is not a supported hash (argon2id, scrypt, pbkdf2-sha256 or bcrypt, in PHC string format)');
  }
  if (passwordHash !== undefined && !hashIsWithinLimits(passwordHash)) throw new ValidationError('"password_hash" has a cost too high to verify at sign-in');
  const rawName = text(fields, 'name');
  return {
    line: record.line,
    email,
    name: rawName === undefined ? email.split('@')[0]! : validateName(rawName, 'user'),
    ...(password === undefined ? {} : { password }),
    ...(passwordHash === undefined ? {} : { passwordHash }),
    orgs: parseOrgs(fields.orgs),
    siteAdmin: parseFlag(fields.site_admin),
  };
}

/** Runs `work` over `items` with `limit` in flight (argon2 hashes on libuv's threads: every core). */
async function inParallel<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  }));
  return results;
}

/**
 * Which `update` rows would take the last owner from an organization: the roles the file gives
 * existing members are applied in file order, and a row that would leave an organization without an
 * owner is refused (the same rule as the admin pages and `member add`).
 */
async function rowsLeavingNoOwner(store: Pick<Store, 'memberships'>, rows: readonly Row[], userIds: ReadonlyMap<string, string>, organizations: ReadonlyMap<string, Organization | null>): Promise<Map<number, string>> {
  const owners = new Map<string, Set<string>>();
  const refused = new Map<number, string>();
  for (const row of rows) {
    const userId = userIds.get(row.email)!;
    for (const { slug, role } of row.orgs) {
      const organization = organizations.get(slug)!;
      let current = owners.get(organization.id);
      if (!current) {
        current = new Set((await store.memberships.listOwners([organization.id])).map((membership) => membership.userId));
        owners.set(organization.id, current);
      }
      if (role === 'member' && current.has(userId) && current.size === 1) {
        refused.set(row.line, `${row.email} is the last owner of "${slug}"; make someone else an owner first`);
      }
    }
    if (refused.has(row.line)) continue;
    for (const { slug, role } of row.orgs) {
      const current = owners.get(organizations.get(slug)!.id)!;
      if (role === 'owner') current.add(userId);
      else current.delete(userId);
    }
  }
  return refused;
}

/**
 * `twofold user import`: validates every record first (per-line reasons), then writes new users and
 * their memberships in batches. Idempotent: a user that exists is skipped, or with `update` only
 * gains the memberships the file names — never leaving an organization without an owner. The
 * operator's (or a site admin's) tool; audited per organization.
 */
export class UserImport {
  constructor(
    private readonly store: Pick<Store, 'users' | 'organizations' | 'memberships'>,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditLog,
  ) {}

  async run(actor: Actor, records: readonly InputRecord[], readErrors: readonly RecordError[], options: ImportOptions): Promise<ImportReport> {
    if (!actsSiteWide(actor)) throw new ForbiddenError('Only site admins can import users.');
    const { store, hasher, audit } = this;
    const errors: RecordError[] = [...readErrors];
    const rows: Row[] = [];
    const seen = new Map<string, number>();
    for (const record of records) {
      try {
        const row = toRow(record);
        const earlier = seen.get(row.email);
        if (earlier !== undefined) throw new ValidationError(`${row.email} is already on line ${earlier}`);
        seen.set(row.email, row.line);
        rows.push(row);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        errors.push({ line: record.line, reason: error.message.replace(/\.$/, '') });
      }
    }

    const organizations = new Map<string, Organization | null>();
    for (const slug of new Set(rows.flatMap((row) => row.orgs.map((org) => org.slug)))) organizations.set(slug, await store.organizations.findBySlug(slug));
    const valid: Row[] = [];
    for (const row of rows) {
      const unknown = row.orgs.filter((org) => !organizations.get(org.slug)).map((org) => org.slug);
      if (unknown.length) errors.push({ line: row.line, reason: `unknown organization ${unknown.map((slug) => `"${slug}"`).join(', ')}` });
      else valid.push(row);
    }

    const existing = new Map<string, string>();
    for (const row of valid) {
      const user = await store.users.findByEmail(row.email);
      if (user) existing.set(row.email, user.id);
    }
    const fresh = valid.filter((row) => !existing.has(row.email));
    let known = valid.filter((row) => existing.has(row.email));
    if (options.update) {
      const lastOwners = await rowsLeavingNoOwner(store, known, existing, organizations);
      for (const [line, reason] of lastOwners) errors.push({ line, reason });
      known = known.filter((row) => !lastOwners.has(row.line));
    }
    const skipped = options.update ? [] : known.map((row) => ({ line: row.line, email: row.email }));
    errors.sort((a, b) => a.line - b.line);
    const report = { created: fresh.length, updated: options.update ? known.length : 0, skipped, errors };
    if (options.dryRun) return { ...report, written: false };
    if (options.allOrNothing && errors.length > 0) return { ...report, created: 0, updated: 0, written: false };

    let done = 0;
    const total = fresh.length + (options.update ? known.length : 0);
    for (let start = 0; start < fresh.length; start += BATCH) {
      const batch = fresh.slice(start, start + BATCH);
      const users: NewUser[] = await inParallel(batch, Math.max(1, os.availableParallelism()), async (row) => ({
        email: row.email,
        name: row.name,
        passwordHash: row.passwordHash ?? (await hasher.hash(row.password!)),
        siteAdmin: row.siteAdmin,
      }));
      const created = await store.users.createMany(users);
      await store.memberships.putMany(batch.flatMap((row, index) => row.orgs.map((org) => ({ organizationId: organizations.get(org.slug)!.id, userId: created[index]!.id, role: org.role }))));
      done += batch.length;
      options.progress?.(done, total);
    }
    if (options.update) {
      await store.memberships.putMany(known.flatMap((row) => row.orgs.map((org) => ({ organizationId: organizations.get(org.slug)!.id, userId: existing.get(row.email)!, role: org.role }))));
      options.progress?.(total, total);
    }
    const touched = [...new Set([...fresh, ...(options.update ? known : [])].flatMap((row) => row.orgs.map((org) => organizations.get(org.slug)!.id)))];
    if (touched.length > 0) {
      await audit.record('member.added', touched, null, { actor, details: { via: 'user import', created: fresh.length, updated: report.updated } });
    }
    return { ...report, written: true };
  }
}
