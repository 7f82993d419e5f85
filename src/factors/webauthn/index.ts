import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import crypto from 'node:crypto';
import type { NewSecurityKey, SecondFactor, SecurityKey, Store, User } from '../../store/types.js';
import type { FactorCheck, FactorDescription, ParsedCode, SecondFactorMethod } from '../factor.js';

/** Where challenges are kept: the store's expiring, consume-once models (the same table as oidc-provider's). */
const CHALLENGE_MODEL = 'WebAuthnChallenge';
const CHALLENGE_TTL_MS = 5 * 60 * 1000;
/** A passkey sign-in's challenge lives as long as its sign-in (an hour); its spending is kept that long. */
const PASSKEY_CHALLENGE_KEPT_MS = 60 * 60 * 1000;
/** How long the browser waits for the person to touch the key. */
const CEREMONY_TIMEOUT_MS = 2 * 60 * 1000;
/** A browser's answer is a few hundred bytes; anything this long is not one. */
const MAX_ANSWER_LENGTH = 16 * 1024;

type Purpose = 'register' | 'authenticate';

interface HeldChallenge {
  readonly userId: string;
  readonly purpose: Purpose;
  readonly challenge: string;
  readonly options: PublicKeyCredentialCreationOptionsJSON | PublicKeyCredentialRequestOptionsJSON;
  readonly consumed?: number;
}

/** Who the keys are made for: the relying party, from ISSUER (docs/rules.md, "Security keys and passkeys"). */
export interface RelyingParty {
  /** The issuer's host name, without port. */
  readonly id: string;
  /** The issuer's origin (scheme, host and port). */
  readonly origin: string;
  readonly name: string;
}

export function relyingPartyOf(issuer: string, name: string): RelyingParty {
  const url = new URL(issuer);
  return { id: url.hostname, origin: url.origin, name };
}

/**
 * A sign-in with a passkey alone: whose key answered, what it is (`hwk`/`swk`), and whether the device
 * verified the person (PIN, fingerprint) — only then does it count as two factors.
 */
export type PasskeyAnswer =
  | { readonly ok: true; readonly userId: string; readonly amr: string; readonly userVerified: boolean }
  | { readonly ok: false; readonly userId?: string; readonly regressed?: { readonly keyName: string; readonly counter: number; readonly stored: number } };

export type Registration =
  | { readonly ok: true; readonly key: NewSecurityKey }
  | { readonly ok: false; readonly reason: 'expired' | 'invalid' | 'malformed' };

const NO_ANSWER = 'Your security key or passkey did not answer. Try again, or use another way to sign in.';

/** The browser's answer, if it has the shape of one; the library checks everything inside it. */
function readAnswer<T extends RegistrationResponseJSON | AuthenticationResponseJSON>(input: string): T | null {
  if (input.length === 0 || input.length > MAX_ANSWER_LENGTH) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(input);
  } catch {
    return null;
  }
  const answer = parsed as { id?: unknown; rawId?: unknown; type?: unknown; response?: unknown };
  if (typeof answer !== 'object' || answer === null) return null;
  if (typeof answer.id !== 'string' || typeof answer.rawId !== 'string' || answer.type !== 'public-key') return null;
  if (typeof answer.response !== 'object' || answer.response === null) return null;
  return parsed as T;
}

const amrOf = (synced: boolean) => (synced ? 'swk' : 'hwk');

/**
 * Security keys and passkeys (WebAuthn; docs/rules.md, "Security keys and passkeys"), checked with
 * @simplewebauthn/server. Each ceremony gets a fresh challenge kept on the server under the hold id
 * (the sign-in's interaction, or the account session) for five minutes; an answer spends it, right
 * or wrong, so an answer cannot be sent twice. The origin and relying-party id are the issuer's.
 * User verification is asked for but not required: a key without a PIN still proves possession.
 */
export class SecurityKeyFactor implements SecondFactorMethod {
  readonly kind = 'security-key';
  readonly invalidSentence = 'That security key or passkey was not accepted. Try again with one you added to this account, or use another way to sign in.';

  constructor(
    private readonly store: Pick<Store, 'securityKeys' | 'oidc' | 'attempts'>,
    private readonly relyingParty: RelyingParty,
    /** Derives the challenge of a passkey sign-in from the sign-in's id, so showing the page writes nothing. */
    private readonly challengeKey: Buffer,
  ) {}

  parse(input: string): ParsedCode {
    return readAnswer<AuthenticationResponseJSON>(input) ? { ok: true, code: input } : { ok: false, problem: NO_ANSWER };
  }

  async verify(userId: string, code: string, holdId: string): Promise<FactorCheck> {
    const answer = readAnswer<AuthenticationResponseJSON>(code);
    const held = await this.#take(holdId, userId, 'authenticate');
    if (!answer || !held) return { kind: 'rejected' };
    const key = await this.store.securityKeys.find(answer.id);
    if (!key || key.userId !== userId) return { kind: 'rejected' };
    let newCounter: number;
    try {
      const result = await verifyAuthenticationResponse({
        response: answer,
        expectedChallenge: held.challenge,
        expectedOrigin: this.relyingParty.origin,
        expectedRPID: this.relyingParty.id,
        // The counter is compared by the store's conditional update below, which also settles races.
        credential: { id: key.credentialId, publicKey: Buffer.from(key.publicKey, 'base64url'), counter: 0, transports: [...key.transports] },
        requireUserVerification: false,
      });
      if (!result.verified) return { kind: 'rejected' };
      newCounter = result.authenticationInfo.newCounter;
    } catch {
      return { kind: 'rejected' };
    }
    if (!(await this.store.securityKeys.recordUse(key.credentialId, newCounter, new Date()))) {
      return { kind: 'rejected', regressed: { keyName: key.name, counter: newCounter, stored: key.counter } };
    }
    return { kind: 'accepted', amr: amrOf(key.synced) };
  }

  describe(record: SecondFactor | null, keys: readonly SecurityKey[]): FactorDescription | null {
    return record && keys.length > 0 ? { kind: this.kind, count: keys.length } : null;
  }

  /** Options for `navigator.credentials.create`, with a new challenge held under `holdId`. */
  async registrationOptions(holdId: string, user: User, keys: readonly SecurityKey[]): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const options = await generateRegistrationOptions({
      rpName: this.relyingParty.name,
      rpID: this.relyingParty.id,
      userName: user.email,
      userDisplayName: user.name || user.email,
      userID: new TextEncoder().encode(user.id),
      timeout: CEREMONY_TIMEOUT_MS,
      attestationType: 'none',
      excludeCredentials: keys.map((key) => ({ id: key.credentialId, transports: [...key.transports] })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    await this.#hold(holdId, user, 'register', options);
    return options;
  }

  /** The registration options held under `holdId` for this user, while its challenge is unused. */
  async heldRegistrationOptions(holdId: string, user: User): Promise<PublicKeyCredentialCreationOptionsJSON | null> {
    const held = await this.#find(holdId, user.id, 'register');
    return held ? (held.options as PublicKeyCredentialCreationOptionsJSON) : null;
  }

  /** Options for `navigator.credentials.get` naming the user's keys, with a new challenge held under `holdId`. */
  async authenticationOptions(holdId: string, user: User, keys: readonly SecurityKey[]): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const options = await generateAuthenticationOptions({
      rpID: this.relyingParty.id,
      timeout: CEREMONY_TIMEOUT_MS,
      allowCredentials: keys.map((key) => ({ id: key.credentialId, transports: [...key.transports] })),
      userVerification: 'preferred',
    });
    await this.#hold(holdId, user, 'authenticate', options);
    return options;
  }

  /**
   * Checks a new key's answer against the challenge held under `holdId`; the key to save, named. Any
   * answer spends the challenge, a malformed one too: another try needs new options, and those only
   * come after the person proves who they are again.
   */
  async register(holdId: string, user: User, input: string, name: string): Promise<Registration> {
    const held = await this.#take(holdId, user.id, 'register');
    if (!held) return { ok: false, reason: 'expired' };
    const answer = readAnswer<RegistrationResponseJSON>(input);
    if (!answer) return { ok: false, reason: 'malformed' };
    try {
      const result = await verifyRegistrationResponse({
        response: answer,
        expectedChallenge: held.challenge,
        expectedOrigin: this.relyingParty.origin,
        expectedRPID: this.relyingParty.id,
        requireUserVerification: false,
      });
      if (!result.verified) return { ok: false, reason: 'invalid' };
      const { credential, credentialDeviceType } = result.registrationInfo;
      return {
        ok: true,
        key: {
          credentialId: credential.id,
          userId: user.id,
          name,
          publicKey: Buffer.from(credential.publicKey).toString('base64url'),
          counter: credential.counter,
          transports: credential.transports ?? [],
          synced: credentialDeviceType === 'multiDevice',
        },
      };
    } catch {
      return { ok: false, reason: 'invalid' };
    }
  }

  /**
   * Options for signing in with a passkey alone (a discoverable credential: no account is named, the
   * passkey says whose it is), for the sign-in `holdId`. User verification is preferred, not required:
   * a device that cannot verify its user would otherwise not answer at all, while its answer still
   * counts as one factor (the password follows). The challenge is derived from `holdId` with a server key — the
   * sign-in page can show it without storing anything — and the first answer spends it.
   */
  async passkeyOptions(holdId: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return generateAuthenticationOptions({
      rpID: this.relyingParty.id,
      timeout: CEREMONY_TIMEOUT_MS,
      allowCredentials: [],
      userVerification: 'preferred',
      challenge: this.#passkeyChallenge(holdId),
    });
  }

  /** Whose key a passkey's answer comes from, by its credential id: null for an answer from no key saved here. */
  async ownerOf(input: string): Promise<string | null> {
    const answer = readAnswer<AuthenticationResponseJSON>(input);
    return answer ? ((await this.store.securityKeys.find(answer.id))?.userId ?? null) : null;
  }

  /** Checks a passkey's answer to the sign-in `holdId`'s challenge (spending it): whose key, and what it proved. */
  async verifyPasskey(holdId: string, input: string): Promise<PasskeyAnswer> {
    const answer = readAnswer<AuthenticationResponseJSON>(input);
    const spent = await this.store.attempts.charge(`passkey-challenge:${holdId}`, new Date(), new Date(Date.now() + PASSKEY_CHALLENGE_KEPT_MS));
    if (!answer || spent.count !== 1) return { ok: false };
    const key = await this.store.securityKeys.find(answer.id);
    // The answer names the account the passkey was made for; it must be the key's own account.
    const handle = typeof answer.response.userHandle === 'string' ? Buffer.from(answer.response.userHandle, 'base64url').toString('utf8') : null;
    if (!key || handle !== key.userId) return { ok: false };
    let result: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
    try {
      result = await verifyAuthenticationResponse({
        response: answer,
        expectedChallenge: Buffer.from(this.#passkeyChallenge(holdId)).toString('base64url'),
        expectedOrigin: this.relyingParty.origin,
        expectedRPID: this.relyingParty.id,
        credential: { id: key.credentialId, publicKey: Buffer.from(key.publicKey, 'base64url'), counter: 0, transports: [...key.transports] },
        requireUserVerification: false,
      });
    } catch {
      return { ok: false, userId: key.userId };
    }
    if (!result.verified) return { ok: false, userId: key.userId };
    const { newCounter, userVerified } = result.authenticationInfo;
    if (!(await this.store.securityKeys.recordUse(key.credentialId, newCounter, new Date()))) {
      return { ok: false, userId: key.userId, regressed: { keyName: key.name, counter: newCounter, stored: key.counter } };
    }
    return { ok: true, userId: key.userId, amr: amrOf(key.synced), userVerified };
  }

  #passkeyChallenge(holdId: string): Uint8Array<ArrayBuffer> {
    return new Uint8Array(crypto.createHmac('sha256', this.challengeKey).update(`passkey-sign-in:${holdId}`).digest());
  }

  /** What `amr` a key-only setup proved: the one key just added. */
  amrOf(key: Pick<SecurityKey, 'synced'>): string {
    return amrOf(key.synced);
  }

  async #hold(holdId: string, user: User, purpose: Purpose, options: HeldChallenge['options']): Promise<void> {
    const held: HeldChallenge = { userId: user.id, purpose, challenge: options.challenge, options };
    await this.store.oidc.upsert(CHALLENGE_MODEL, `${purpose}:${holdId}`, { ...held }, new Date(Date.now() + CHALLENGE_TTL_MS));
  }

  async #find(holdId: string, userId: string, purpose: Purpose): Promise<HeldChallenge | null> {
    const held = (await this.store.oidc.find(CHALLENGE_MODEL, `${purpose}:${holdId}`)) as HeldChallenge | null;
    return held && held.userId === userId && held.purpose === purpose && held.consumed === undefined ? held : null;
  }

  /** The held challenge, spent by this call: of two answers racing for it, one gets it. */
  async #take(holdId: string, userId: string, purpose: Purpose): Promise<HeldChallenge | null> {
    const held = await this.#find(holdId, userId, purpose);
    if (!held || !(await this.store.oidc.consume(CHALLENGE_MODEL, `${purpose}:${holdId}`))) return null;
    return held;
  }
}
