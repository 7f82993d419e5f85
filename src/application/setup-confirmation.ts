import crypto from 'node:crypto';
import type { Mailer } from '../mail/mailer.js';
import type { Store, User } from '../store/types.js';

/*
 * The code e-mailed to confirm a first set-up (docs/rules.md, "The first set-up belongs to the
 * person"): six digits, valid 15 minutes, 5 tries, single use. Only an HMAC of it under a server key is
 * stored, bound to the set-up it belongs to (the sign-in or account session holding it), so the
 * database alone does not give it away and a code made for one set-up confirms no other.
 */

const MODEL = 'SetupEmailCode';
const CODE_TTL_MS = 15 * 60 * 1000;
export const EMAIL_CODE_TRIES = 5;
/** Codes sent to one account in an hour, so that nobody can flood its mailbox from the set-up page. */
const CODES_PER_HOUR = 5;
const HOUR_MS = 60 * 60 * 1000;

export const EMAIL_CODE_SENTENCES = {
  missing: 'Enter the 6-digit code we e-mailed to you.',
  malformed: 'The e-mailed code has 6 digits.',
  wrong: 'That e-mailed code is not right. Check the newest e-mail from us, or send a new code.',
  expired: 'That e-mailed code has expired or was already used. Send a new code.',
  exhausted: 'Too many wrong e-mailed codes: this code no longer works. Send a new code to try again.',
  limited: 'Several codes were sent to you in the last hour. Use the newest one, or try again in an hour.',
} as const;

export type EmailCodeCheck = { readonly ok: true } | { readonly ok: false; readonly error: string; readonly status: number };
/** `sent` now; `earlier` for this set-up already (still live, used up or spent: a new one only on request); `limited`. */
export type EmailCodeSending = 'sent' | 'earlier' | 'limited';

interface StoredCode {
  readonly userId: string;
  readonly mac: string;
}

export class SetupConfirmation {
  constructor(
    private readonly store: Pick<Store, 'oidc' | 'attempts'>,
    private readonly key: Buffer,
    private readonly mailer: Mailer,
  ) {}

  #mac(holdId: string, code: string): string {
    return crypto.createHmac('sha256', this.key).update(`${holdId}:${code}`).digest('hex');
  }

  async #live(holdId: string, user: User): Promise<StoredCode | null> {
    const stored = (await this.store.oidc.find(MODEL, holdId)) as (StoredCode & { consumed?: number }) | null;
    return stored && stored.userId === user.id && stored.consumed === undefined ? stored : null;
  }

  /**
   * Sends a code for the set-up `holdId` unless one was sent for it already and has not expired —
   * live, used up by wrong tries, or spent; `fresh` ("Send a new code") replaces it.
   */
  async send(holdId: string, user: User, { fresh = false } = {}): Promise<EmailCodeSending> {
    if (!fresh && (await this.store.oidc.find(MODEL, holdId))) return 'earlier';
    const now = new Date();
    const sent = await this.store.attempts.charge(`setup-email-code:sent:${user.id}`, now, new Date(now.getTime() + HOUR_MS));
    if (sent.count > CODES_PER_HOUR) return 'limited';
    const code = crypto.randomInt(0, 1_000_000).toString().padStart(6, '0');
    await this.store.oidc.upsert(MODEL, holdId, { userId: user.id, mac: this.#mac(holdId, code) }, new Date(now.getTime() + CODE_TTL_MS));
    await this.store.attempts.reset(`setup-email-code:tries:${holdId}`);
    await this.mailer.send({ to: user.email, message: 'setup-email-code', locals: { code, minutes: CODE_TTL_MS / 60_000 } });
    return 'sent';
  }

  /**
   * Checks the typed code without spending it (the set-up may still fail on its own code); the fifth
   * wrong try ends the code. `spend` is called once the set-up is saved.
   */
  async check(holdId: string, user: User, typed: string | undefined): Promise<EmailCodeCheck> {
    const digits = (typed ?? '').replace(/\s+/g, '');
    if (digits === '') return { ok: false, error: EMAIL_CODE_SENTENCES.missing, status: 400 };
    if (!/^\d{6}$/.test(digits)) return { ok: false, error: EMAIL_CODE_SENTENCES.malformed, status: 400 };
    const stored = await this.#live(holdId, user);
    if (!stored) return { ok: false, error: EMAIL_CODE_SENTENCES.expired, status: 400 };
    const now = new Date();
    const tries = await this.store.attempts.charge(`setup-email-code:tries:${holdId}`, now, new Date(now.getTime() + CODE_TTL_MS));
    if (tries.count > EMAIL_CODE_TRIES) return { ok: false, error: EMAIL_CODE_SENTENCES.exhausted, status: 429 };
    const right = crypto.timingSafeEqual(Buffer.from(stored.mac, 'hex'), Buffer.from(this.#mac(holdId, digits), 'hex'));
    if (right) return { ok: true };
    if (tries.count === EMAIL_CODE_TRIES) {
      // Used up, not deleted: showing the page again must not send another code by itself.
      await this.store.oidc.consume(MODEL, holdId);
      return { ok: false, error: EMAIL_CODE_SENTENCES.exhausted, status: 429 };
    }
    return { ok: false, error: EMAIL_CODE_SENTENCES.wrong, status: 400 };
  }

  /** Spends the code once the set-up it confirmed is saved: it confirms nothing else. */
  async spend(holdId: string): Promise<void> {
    await this.store.oidc.consume(MODEL, holdId);
    await this.store.attempts.reset(`setup-email-code:tries:${holdId}`);
  }
}
