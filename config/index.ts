import path from 'node:path';

/**
 * Every setting Twofold reads, with its default and a one-line description. The table is the
 * documentation: the README's configuration section is written from it, and `describeOptions()`
 * prints it. Values are read once, validated, and frozen.
 */

export type TwoFactorMode = 'off' | 'optional' | 'required';

export interface Config {
  readonly production: boolean;
  readonly port: number;
  readonly host: string;
  readonly issuer: string;
  readonly dataDir: string;
  readonly mongodbUri: string | undefined;
  readonly demo: boolean;
  /** base64 of 32 bytes, or undefined to use (and create) `DATA_DIR/encryption.key` outside production. */
  readonly encryptionKey: string | undefined;
  readonly previousEncryptionKeys: readonly string[];
  readonly passwordHash: { readonly memoryKib: number; readonly iterations: number; readonly parallelism: number };
  /** How many reverse proxies stand in front of Twofold (0: none; X-Forwarded-* are ignored). */
  readonly trustProxy: number;
  readonly logLevel: LogLevel;
  /** Shown on pages and e-mails, and the issuer name in authenticator apps. */
  readonly siteName: string;
  readonly mail: { readonly smtpUrl: string | undefined; readonly from: string; readonly outboxDir: string };
  readonly lockout: {
    readonly secondFactorPerSignIn: number;
    readonly secondFactorThreshold: number;
    readonly secondFactorMinutes: number;
    readonly passwordThreshold: number;
    readonly passwordMinutes: number;
    readonly passwordPerIpPerWindow: number;
  };
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export class ConfigError extends Error {
  constructor(readonly setting: string, message: string) {
    super(`${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

interface Option {
  readonly name: string;
  readonly default: string;
  readonly description: string;
}

export const OPTIONS: readonly Option[] = [
  { name: 'NODE_ENV', default: 'development', description: '`production` turns on the production checks below and turns the demo off.' },
  { name: 'PORT', default: '3000', description: 'TCP port the HTTP server listens on.' },
  { name: 'HOST', default: '127.0.0.1 (0.0.0.0 in production)', description: 'Interface the HTTP server binds to.' },
  { name: 'ISSUER', default: 'http://localhost:PORT', description: 'Public URL of Twofold, as relying parties reach it; must be https in production.' },
  { name: 'DATA_DIR', default: './data', description: 'Folder for the embedded database (twofold.db) and the generated encryption key.' },
  { name: 'MONGODB_URI', default: '(unset)', description: 'When set, MongoDB at this URI is the store instead of the embedded SQLite database.' },
  { name: 'TWOFOLD_DEMO', default: '1 (0 in production)', description: 'Seed an empty store with a demo organization, users and relying party, and serve /demo.' },
  { name: 'ENCRYPTION_KEY', default: 'generated into DATA_DIR/encryption.key (required in production)', description: 'Base64 of 32 random bytes; encrypts secrets at rest (AES-256-GCM). `openssl rand -base64 32` makes one.' },
  { name: 'ENCRYPTION_KEYS_PREVIOUS', default: '(unset)', description: 'Comma-separated earlier ENCRYPTION_KEY values, still accepted for reading while data is re-encrypted.' },
  { name: 'PASSWORD_HASH_MEMORY_KIB', default: '19456', description: 'argon2id memory cost in KiB (OWASP: 19456 with 2 iterations).' },
  { name: 'PASSWORD_HASH_ITERATIONS', default: '2', description: 'argon2id time cost (iterations).' },
  { name: 'PASSWORD_HASH_PARALLELISM', default: '1', description: 'argon2id parallelism (lanes).' },
  { name: 'TRUST_PROXY', default: '0', description: 'How many reverse proxies stand in front of Twofold (0 = none). Each appends to X-Forwarded-For; Twofold believes only that many entries from the right, so a client cannot choose its own address.' },
  { name: 'LOG_LEVEL', default: 'info', description: 'debug, info, warn, error or silent.' },
  { name: 'SITE_NAME', default: 'Twofold', description: 'Name shown on pages and in e-mails, and the issuer name authenticator apps display.' },
  { name: 'SMTP_URL', default: '(unset: e-mails go to DATA_DIR/outbox)', description: 'SMTP server for e-mail, e.g. smtps://user:pass@mail.example.org:465.' },
  { name: 'MAIL_FROM', default: 'Twofold <no-reply@localhost>', description: 'Sender of the e-mails Twofold sends.' },
  { name: 'SECOND_FACTOR_ATTEMPTS_PER_SIGN_IN', default: '5', description: 'Wrong passcodes or recovery codes allowed in one sign-in before it must be started again.' },
  { name: 'SECOND_FACTOR_LOCKOUT_THRESHOLD', default: '10', description: 'Consecutive wrong second-factor codes that lock the account (at most 100, NIST SP 800-63B §5.2.2).' },
  { name: 'SECOND_FACTOR_LOCKOUT_MINUTES', default: '15', description: 'How long a second-factor lockout lasts.' },
  { name: 'PASSWORD_LOCKOUT_THRESHOLD', default: '10', description: 'Consecutive wrong passwords for one email that pause sign-in for it (at most 100).' },
  { name: 'PASSWORD_LOCKOUT_MINUTES', default: '15', description: 'How long a password pause lasts; also the window of the per-IP limit.' },
  { name: 'PASSWORD_ATTEMPTS_PER_IP', default: '100', description: 'Wrong passwords one IP address may send per window before it is paused.' },
];

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

function readFlag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(name, `expected 1 or 0, got "${raw}".`);
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}".`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}.`);
  return value;
}

function readOptional(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === '' ? undefined : raw;
}

function readIssuer(env: Env, port: number, production: boolean): string {
  const raw = readOptional(env, 'ISSUER');
  if (raw === undefined) {
    if (production) throw new ConfigError('ISSUER', 'must be set in production to the public https URL of Twofold.');
    return `http://localhost:${port}`;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('ISSUER', `"${raw}" is not a URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError('ISSUER', 'must be an http or https URL.');
  if (production && url.protocol !== 'https:') throw new ConfigError('ISSUER', 'must be an https URL in production.');
  if (url.search || url.hash) throw new ConfigError('ISSUER', 'must not have a query or fragment.');
  return raw.replace(/\/+$/, '');
}

export function isEncryptionKey(value: string): boolean {
  return /^[A-Za-z0-9+/]{43}=$/.test(value) && Buffer.from(value, 'base64').length === 32;
}

function readEncryptionKey(env: Env, production: boolean): string | undefined {
  const raw = readOptional(env, 'ENCRYPTION_KEY');
  if (raw === undefined) {
    if (production) throw new ConfigError('ENCRYPTION_KEY', 'must be set in production (base64 of 32 random bytes: `openssl rand -base64 32`).');
    return undefined;
  }
  if (!isEncryptionKey(raw)) throw new ConfigError('ENCRYPTION_KEY', 'must be base64 of exactly 32 bytes (`openssl rand -base64 32`).');
  return raw;
}

function readPreviousKeys(env: Env): string[] {
  const raw = readOptional(env, 'ENCRYPTION_KEYS_PREVIOUS');
  if (raw === undefined) return [];
  const keys = raw.split(',').map((key) => key.trim()).filter(Boolean);
  for (const key of keys) {
    if (!isEncryptionKey(key)) throw new ConfigError('ENCRYPTION_KEYS_PREVIOUS', 'every entry must be base64 of exactly 32 bytes.');
  }
  return keys;
}

function readLogLevel(env: Env): LogLevel {
  const raw = readOptional(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(raw as LogLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}.`);
  return raw as LogLevel;
}

function readMongoUri(env: Env): string | undefined {
  const raw = readOptional(env, 'MONGODB_URI');
  if (raw !== undefined && !/^mongodb(\+srv)?:\/\//.test(raw)) {
    throw new ConfigError('MONGODB_URI', 'must start with mongodb:// or mongodb+srv://.');
  }
  return raw;
}

function readSmtpUrl(env: Env): string | undefined {
  const raw = readOptional(env, 'SMTP_URL');
  if (raw !== undefined && !/^smtps?:\/\/[^/]+/.test(raw)) throw new ConfigError('SMTP_URL', 'must look like smtp://host:port or smtps://user:password@host:465.');
  return raw;
}

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const production = env.NODE_ENV === 'production';
  const port = readInteger(env, 'PORT', 3000, 0, 65535);
  const demo = readFlag(env, 'TWOFOLD_DEMO', !production);
  const dataDir = path.resolve(cwd, readOptional(env, 'DATA_DIR') ?? './data');
  if (demo && production) throw new ConfigError('TWOFOLD_DEMO', 'must be 0 in production: the demo accounts have published passwords.');
  return Object.freeze({
    production,
    port,
    host: readOptional(env, 'HOST') ?? (production ? '0.0.0.0' : '127.0.0.1'),
    issuer: readIssuer(env, port, production),
    dataDir,
    mongodbUri: readMongoUri(env),
    demo,
    encryptionKey: readEncryptionKey(env, production),
    previousEncryptionKeys: Object.freeze(readPreviousKeys(env)),
    passwordHash: Object.freeze({
      memoryKib: readInteger(env, 'PASSWORD_HASH_MEMORY_KIB', 19456, 1024, 4 * 1024 * 1024),
      iterations: readInteger(env, 'PASSWORD_HASH_ITERATIONS', 2, 1, 100),
      parallelism: readInteger(env, 'PASSWORD_HASH_PARALLELISM', 1, 1, 16),
    }),
    trustProxy: readInteger(env, 'TRUST_PROXY', 0, 0, 10),
    logLevel: readLogLevel(env),
    siteName: readOptional(env, 'SITE_NAME') ?? 'Twofold',
    mail: Object.freeze({
      smtpUrl: readSmtpUrl(env),
      from: readOptional(env, 'MAIL_FROM') ?? 'Twofold <no-reply@localhost>',
      outboxDir: path.join(dataDir, 'outbox'),
    }),
    lockout: Object.freeze({
      secondFactorPerSignIn: readInteger(env, 'SECOND_FACTOR_ATTEMPTS_PER_SIGN_IN', 5, 1, 100),
      secondFactorThreshold: readInteger(env, 'SECOND_FACTOR_LOCKOUT_THRESHOLD', 10, 1, 100),
      secondFactorMinutes: readInteger(env, 'SECOND_FACTOR_LOCKOUT_MINUTES', 15, 1, 24 * 60),
      passwordThreshold: readInteger(env, 'PASSWORD_LOCKOUT_THRESHOLD', 10, 1, 100),
      passwordMinutes: readInteger(env, 'PASSWORD_LOCKOUT_MINUTES', 15, 1, 24 * 60),
      passwordPerIpPerWindow: readInteger(env, 'PASSWORD_ATTEMPTS_PER_IP', 100, 1, 100_000),
    }),
  });
}
