import crypto from 'node:crypto';
import type { Store, User } from '../store/types.js';

/**
 * "This wasn't me" (docs/rules.md, "The first set-up belongs to the person"): every e-mail that reports
 * a new factor carries a link that takes it back. Single use, seven days; only the SHA-256 of its token
 * is stored, with the account and the factor it reports.
 */
export type ReportedFactor =
  | { readonly kind: 'app' }
  | { readonly kind: 'key'; readonly credentialId: string; readonly name: string }
  | { readonly kind: 'recovery-codes' };

export interface NotMeLink {
  readonly userId: string;
  readonly factor: ReportedFactor;
}

const MODEL = 'NotMeLink';
const TTL_MS = 7 * 24 * 60 * 60 * 1000;
export const NOT_ME_PATH = '/not-me/';
const hashOf = (token: string) => crypto.createHash('sha256').update(`not-me:${token}`).digest('hex');

export class NotMeLinks {
  constructor(private readonly store: Pick<Store, 'oidc'>, private readonly issuer: string) {}

  /** A new link for the e-mail that reports `factor` to `user`. */
  async create(user: Pick<User, 'id'>, factor: ReportedFactor, now = new Date()): Promise<string> {
    const token = crypto.randomBytes(32).toString('base64url');
    await this.store.oidc.upsert(MODEL, hashOf(token), { userId: user.id, factor: { ...factor } }, new Date(now.getTime() + TTL_MS));
    return `${this.issuer}${NOT_ME_PATH}${token}`;
  }

  /** What the link reports, while it works; null for one unknown, expired or used. */
  async find(token: string): Promise<NotMeLink | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const stored = (await this.store.oidc.find(MODEL, hashOf(token))) as (NotMeLink & { consumed?: number }) | null;
    return stored && stored.consumed === undefined ? { userId: stored.userId, factor: stored.factor } : null;
  }

  /** Spends the link: of two racing uses, one gets what it reports. */
  async take(token: string): Promise<NotMeLink | null> {
    const link = await this.find(token);
    return link && (await this.store.oidc.consume(MODEL, hashOf(token))) ? link : null;
  }
}
