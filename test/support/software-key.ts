import crypto from 'node:crypto';

/**
 * A security key made in Node for tests that need WebAuthn answers without a browser: an ES256 key
 * pair, and the registration ("none" attestation) and sign-in answers a browser would send, built
 * byte by byte after the WebAuthn specification — so the library under test checks real signatures,
 * and a test can tamper with the origin, the relying-party id or the counter.
 */

/** The few CBOR types WebAuthn needs (RFC 8949): unsigned and negative integers, byte and text strings, maps. */
function cbor(value: unknown): Buffer {
  const head = (major: number, length: number): Buffer => {
    if (length < 24) return Buffer.from([(major << 5) | length]);
    if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
    if (length < 0x10000) return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff]);
    const out = Buffer.alloc(5);
    out[0] = (major << 5) | 26;
    out.writeUInt32BE(length, 1);
    return out;
  };
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Map) {
    const parts: Buffer[] = [head(5, value.size)];
    for (const [key, entry] of value) parts.push(cbor(key), cbor(entry));
    return Buffer.concat(parts);
  }
  throw new Error(`cannot CBOR-encode ${typeof value}`);
}

const sha256 = (data: Buffer | string) => crypto.createHash('sha256').update(data).digest();
const b64url = (data: Buffer) => data.toString('base64url');

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

export interface Ceremony {
  readonly challenge: string;
  /** Defaults to the key's own origin and relying-party id; a test overrides them to play a phishing page. */
  readonly origin?: string;
  readonly rpId?: string;
}

export class SoftwareKey {
  readonly credentialId = crypto.randomBytes(32);
  readonly #keys = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  /** The next signature counter this key reports. */
  counter = 1;
  /** The account the key was made for (the registration options' user id), which a passkey's answer names. */
  userHandle: string | undefined;
  /** Whether the device checks its PIN or fingerprint (the UV flag); a test turns it off to play a key without one. */
  userVerifies = true;

  constructor(private readonly origin: string, private readonly rpId: string, private readonly synced = false) {}

  get id(): string {
    return b64url(this.credentialId);
  }

  #flags(extra: number): number {
    return FLAG_UP | (this.userVerifies ? FLAG_UV : 0) | extra | (this.synced ? FLAG_BE | FLAG_BS : 0);
  }

  #clientData(type: string, ceremony: Ceremony): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge: ceremony.challenge, origin: ceremony.origin ?? this.origin, crossOrigin: false }));
  }

  #counterBytes(counter: number): Buffer {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(counter);
    return out;
  }

  /** The answer to `navigator.credentials.create` (attestation "none"); `userId` (the options' `user.id`) makes it a passkey that names its account. */
  register(ceremony: Ceremony & { readonly userId?: string }): Record<string, unknown> {
    this.userHandle = ceremony.userId;
    const jwk = this.#keys.publicKey.export({ format: 'jwk' });
    const cose = cbor(new Map<number, unknown>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]));
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const authData = Buffer.concat([sha256(ceremony.rpId ?? this.rpId), Buffer.from([this.#flags(FLAG_AT)]), this.#counterBytes(0), Buffer.alloc(16), idLength, this.credentialId, cose]);
    const attestationObject = cbor(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64url(this.#clientData('webauthn.create', ceremony)), attestationObject: b64url(attestationObject), transports: ['usb'] },
      clientExtensionResults: {},
    };
  }

  /** The answer to `navigator.credentials.get`, signed with the next counter (or the one given). */
  sign(ceremony: Ceremony, counter = this.counter++): Record<string, unknown> {
    const authData = Buffer.concat([sha256(ceremony.rpId ?? this.rpId), Buffer.from([this.#flags(0)]), this.#counterBytes(counter)]);
    const clientData = this.#clientData('webauthn.get', ceremony);
    const signature = crypto.sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.#keys.privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64url(clientData), authenticatorData: b64url(authData), signature: b64url(signature), ...(this.userHandle ? { userHandle: this.userHandle } : {}) },
      clientExtensionResults: {},
    };
  }
}

/** What a page hands its WebAuthn script in `data-webauthn-options` (HTML-escaped JSON). */
export interface PageWebAuthnOptions {
  readonly challenge: string;
  readonly rp?: { readonly id: string };
  readonly user?: { readonly id: string };
  readonly allowCredentials?: ReadonlyArray<{ readonly id: string }>;
}

/** The options of the page's form for `ceremony` (or its first WebAuthn form); null when it has none. */
export function webauthnOptionsOf(page: { readonly html: string }, ceremony?: 'register' | 'authenticate'): PageWebAuthnOptions | null {
  const forms = [...page.html.matchAll(/<form\b[^>]*>/g)].map((match) => match[0]);
  const form = forms.find((tag) => tag.includes('data-webauthn-options=') && (ceremony === undefined || tag.includes(`data-webauthn="${ceremony}"`)));
  const raw = form ? /data-webauthn-options="([^"]+)"/.exec(form)?.[1] : undefined;
  return raw ? (JSON.parse(raw.replaceAll('&quot;', '"').replaceAll('&amp;', '&')) as PageWebAuthnOptions) : null;
}
