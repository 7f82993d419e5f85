import net from 'node:net';
import path from 'node:path';

/**
 * Every setting Twofold reads, written once in `SETTINGS`: its environment variable, its default, the parser
 * that validates it and a one-line description. `loadConfig` reads the table into a frozen `Config`;
 * `npm run docs:config` writes the README's configuration table from it.
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
  /** Linux niceness of the threads that work in the background (docs/security-model.md, "Background threads"). */
  readonly backgroundNiceness: number;
  /** How many reverse proxies stand in front of Twofold (0: none; X-Forwarded-* are ignored). */
  readonly trustProxy: number;
  readonly logLevel: LogLevel;
  /** Lets a scraper that is not on this host read /metrics; unset, only loopback may. */
  readonly metricsToken: string | undefined;
  /** Shown on pages and e-mails, and the issuer name in authenticator apps. */
  readonly siteName: string;
  readonly mail: {
    readonly smtpUrl: string | undefined;
    readonly from: string;
    readonly outboxDir: string;
    /** How often the outbox worker looks for messages that are due (besides being woken by each new one). */
    readonly pollSeconds: number;
    /** The wait before the first retry of a message the mail server did not take; it doubles with each attempt. */
    readonly firstRetrySeconds: number;
  };
  readonly lockout: {
    readonly secondFactorPerSignIn: number;
    readonly secondFactorThreshold: number;
    readonly secondFactorMinutes: number;
    readonly passwordThreshold: number;
    readonly passwordMinutes: number;
    readonly passwordPerIpPerWindow: number;
  };
  /** Audit events older than this are deleted once a day. */
  readonly auditRetentionDays: number;
  readonly rememberBrowserMaxDays: number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export class ConfigError extends Error {
  constructor(readonly setting: string, message: string) {
    super(`${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** What parsers and computed defaults may depend on besides their own value: other settings, each read once. */
export interface Context {
  readonly cwd: string;
  readonly production: boolean;
  readonly port: number;
  readonly dataDir: string;
}

/** A default that depends on other settings: the words the README shows, and how it is computed. */
export interface Computed<T> {
  readonly text: string;
  readonly value: (context: Context) => T;
}

export interface Setting<T> {
  readonly kind: 'setting';
  /** The environment variable. */
  readonly name: string;
  /** Text the parser reads when the variable is unset or empty, or a default computed from other settings. */
  readonly default: string | Computed<T>;
  readonly parse: Parser<T>;
  readonly description: string;
}

/**
 * Reads a trimmed, non-empty value; throws `InvalidValue` with a sentence for the operator. `allowed` says
 * which values it takes, for the README, when that is a short list or a range.
 */
export type Parser<T> = ((raw: string, context: Context) => T) & { readonly allowed?: string };

/** A `Config` field no variable sets: it follows from other settings. */
export interface Derived<T> {
  readonly kind: 'derived';
  readonly value: (context: Context) => T;
}

/** `SETTINGS` mirrors `Config` field by field, so the compiler refuses a field without its setting. */
type Leaf = string | number | boolean | undefined | readonly string[];
type Table<T> = { readonly [K in keyof T]: T[K] extends Leaf ? Setting<T[K]> | Derived<T[K]> : Table<T[K]> };
type Node = Setting<unknown> | Derived<unknown> | Group;
interface Group {
  readonly [field: string]: Node;
}

const isSetting = (node: Node): node is Setting<unknown> => node.kind === 'setting';
const isDerived = (node: Node): node is Derived<unknown> => node.kind === 'derived';

/** Thrown by parsers without the setting's name; `loadConfig` wraps it in a `ConfigError` that names it. */
class InvalidValue extends Error {}

const setting = <T>(spec: Omit<Setting<T>, 'kind'>): Setting<T> => ({ kind: 'setting', ...spec });
const derived = <T>(value: (context: Context) => T): Derived<T> => ({ kind: 'derived', value });
const computed = <T>(text: string, value: (context: Context) => T): Computed<T> => ({ text, value });
const unset = (text = 'unset'): Computed<undefined> => computed(text, () => undefined);

function integer(min: number, max: number): Parser<number> {
  const parse = (raw: string) => {
    if (!/^\d+$/.test(raw)) throw new InvalidValue(`expected a whole number, got "${raw}".`);
    const value = Number(raw);
    if (value < min || value > max) throw new InvalidValue(`must be between ${min} and ${max}, got ${value}.`);
    return value;
  };
  return Object.assign(parse, { allowed: `\`${min}\`–\`${max}\`` });
}

function flag(raw: string): boolean {
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new InvalidValue(`expected 1 or 0, got "${raw}".`);
}

function oneOf<T extends string>(values: readonly T[]): Parser<T> {
  const parse = (raw: string) => {
    if (!values.includes(raw as T)) throw new InvalidValue(`must be one of ${values.join(', ')}, got "${raw}".`);
    return raw as T;
  };
  const quoted = values.map((value) => `\`${value}\``);
  return Object.assign(parse, { allowed: `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}` });
}

/** Values that end up in paths, mail headers and authenticator labels: a line break there is a pasting mistake or an injection. */
function plainText(maxLength: number): (raw: string) => string {
  return (raw) => {
    if (/[\u0000-\u001f\u007f]/.test(raw)) throw new InvalidValue('must not contain line breaks or other control characters.');
    if (raw.length > maxLength) throw new InvalidValue(`must be at most ${maxLength} characters long.`);
    return raw;
  };
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

function hostOrAddress(raw: string): string {
  if (net.isIP(raw) === 0 && !HOST_NAME.test(raw)) throw new InvalidValue(`must be an IP address or a host name, got "${raw}".`);
  return raw;
}

function issuerUrl(raw: string, { production }: Context): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidValue(`"${raw}" is not a URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidValue('must be an http or https URL.');
  if (production && url.protocol !== 'https:') throw new InvalidValue('must be an https URL in production.');
  if (url.search || url.hash) throw new InvalidValue('must not have a query or fragment.');
  return raw.replace(/\/+$/, '');
}

export function isEncryptionKey(value: string): boolean {
  return /^[A-Za-z0-9+/]{43}=$/.test(value) && Buffer.from(value, 'base64').length === 32;
}

function encryptionKey(raw: string): string {
  if (!isEncryptionKey(raw)) throw new InvalidValue('must be base64 of exactly 32 bytes (`openssl rand -base64 32`).');
  return raw;
}

function previousKeys(raw: string): readonly string[] {
  const keys = raw.split(',').map((key) => key.trim()).filter(Boolean);
  if (!keys.every(isEncryptionKey)) throw new InvalidValue('every entry must be base64 of exactly 32 bytes.');
  return keys;
}

/** Compared in constant time with the bearer token a scraper sends; long enough that guessing is hopeless. */
function bearerToken(raw: string): string {
  if (!/^[A-Za-z0-9._~+/=-]+$/.test(raw)) throw new InvalidValue('must be letters, digits and . _ ~ + / = - only (`openssl rand -hex 32`).');
  if (raw.length < 32) throw new InvalidValue(`must be at least 32 characters long, got ${raw.length} (\`openssl rand -hex 32\`).`);
  return raw;
}

function demoFlag(raw: string, { production }: Context): boolean {
  const on = flag(raw);
  if (on && production) throw new InvalidValue('must be 0 in production: the demo accounts have published passwords.');
  return on;
}

function mongoUri(raw: string): string {
  if (!/^mongodb(\+srv)?:\/\//.test(raw)) throw new InvalidValue('must start with mongodb:// or mongodb+srv://.');
  return raw;
}

function smtpUrl(raw: string): string {
  if (!/^smtps?:\/\/[^/]+/.test(raw)) throw new InvalidValue('must look like smtp://host:port or smtps://user:password@host:465.');
  return raw;
}

/** `someone@host` or `Name <someone@host>`. */
function mailbox(raw: string): string {
  if (!/^(?:[^<>\r\n]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/.test(raw)) {
    throw new InvalidValue(`must be an e-mail address, optionally with a name: "Name <someone@example.org>", got "${raw}".`);
  }
  return raw;
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
// A misspelt "production" must not quietly run without the production checks.
const environment = oneOf(['development', 'test', 'production']);
const folder = plainText(4096);

/** In the order the README lists them. */
export const SETTINGS = {
  production: setting({
    name: 'NODE_ENV',
    default: 'development',
    parse: Object.assign((raw: string, context: Context) => environment(raw, context) === 'production', { allowed: environment.allowed }),
    description: '`production` turns on the production checks (`ISSUER`, `ENCRYPTION_KEY`, `TWOFOLD_DEMO`) and turns the demo off.',
  }),
  port: setting({ name: 'PORT', default: '3000', parse: integer(0, 65535), description: 'TCP port the HTTP server listens on.' }),
  host: setting({
    name: 'HOST',
    default: computed('`127.0.0.1` (`0.0.0.0` in production)', ({ production }) => (production ? '0.0.0.0' : '127.0.0.1')),
    parse: hostOrAddress,
    description: 'Interface the HTTP server binds to.',
  }),
  issuer: setting({
    name: 'ISSUER',
    default: computed('`http://localhost:PORT`; **required in production**', ({ production, port }) => {
      if (production) throw new InvalidValue('must be set in production to the public https URL of Twofold.');
      return `http://localhost:${port}`;
    }),
    parse: issuerUrl,
    description: 'Public URL of Twofold as relying parties reach it; https in production.',
  }),
  dataDir: setting({
    name: 'DATA_DIR',
    default: './data',
    parse: (raw, { cwd }) => path.resolve(cwd, folder(raw)),
    description: 'Folder for the embedded database (`twofold.db`), the generated encryption key and the e-mail outbox.',
  }),
  mongodbUri: setting<string | undefined>({
    name: 'MONGODB_URI',
    default: unset(),
    parse: mongoUri,
    description: 'When set, MongoDB at this URI is the store instead of the embedded SQLite database.',
  }),
  demo: setting({
    name: 'TWOFOLD_DEMO',
    default: computed('`1` (`0` in production)', ({ production }) => !production),
    parse: demoFlag,
    description: 'Seed an empty store with the demo organization, users and application, and serve `/demo`; must be `0` in production.',
  }),
  encryptionKey: setting<string | undefined>({
    name: 'ENCRYPTION_KEY',
    default: computed('generated into `DATA_DIR/encryption.key`; **required in production**', ({ production }) => {
      if (production) throw new InvalidValue('must be set in production (base64 of 32 random bytes: `openssl rand -base64 32`).');
      return undefined;
    }),
    parse: encryptionKey,
    description: 'Base64 of 32 random bytes (`openssl rand -base64 32`); seals secrets at rest with AES-256-GCM.',
  }),
  previousEncryptionKeys: setting({
    name: 'ENCRYPTION_KEYS_PREVIOUS',
    default: computed('unset', (): readonly string[] => []),
    parse: previousKeys,
    description: 'Comma-separated earlier `ENCRYPTION_KEY` values, still accepted for reading after a rotation.',
  }),
  passwordHash: {
    memoryKib: setting({
      name: 'PASSWORD_HASH_MEMORY_KIB',
      default: '19456',
      parse: integer(1024, 4 * 1024 * 1024),
      description: 'argon2id memory cost in KiB (OWASP: 19 MiB with 2 iterations).',
    }),
    iterations: setting({ name: 'PASSWORD_HASH_ITERATIONS', default: '2', parse: integer(1, 100), description: 'argon2id time cost.' }),
    parallelism: setting({ name: 'PASSWORD_HASH_PARALLELISM', default: '1', parse: integer(1, 16), description: 'argon2id lanes.' }),
  },
  backgroundNiceness: setting({
    name: 'BACKGROUND_THREAD_NICENESS',
    default: '10',
    parse: integer(0, 19),
    description: 'Linux niceness of the threads that work in the background — password hashing, and the embedded database\'s checkpoints — so that pages and passcode checks are not queued behind them on a busy core; `0` leaves them at the process\'s priority.',
  }),
  trustProxy: setting({
    name: 'TRUST_PROXY',
    default: '0',
    parse: integer(0, 10),
    description: 'How many reverse proxies stand in front of Twofold. Each appends the address it saw to `X-Forwarded-For`; Twofold believes only that many entries from the right, so a client cannot pick its own address (and slip past the per-address limits) by sending the header itself. One load balancer: `1`.',
  }),
  logLevel: setting({ name: 'LOG_LEVEL', default: 'info', parse: oneOf(LOG_LEVELS), description: 'The least severe event the operator\'s log records; `silent` records none.' }),
  metricsToken: setting<string | undefined>({
    name: 'METRICS_TOKEN',
    default: unset('unset: only loopback may read `/metrics`'),
    parse: bearerToken,
    description: 'Lets a Prometheus scraper that is not on this host read `/metrics` by sending `Authorization: Bearer <token>`. At least 32 characters (`openssl rand -hex 32`).',
  }),
  siteName: setting({
    name: 'SITE_NAME',
    default: 'Twofold',
    parse: plainText(100),
    description: 'Name on pages and e-mails, and the issuer name authenticator apps show.',
  }),
  mail: {
    smtpUrl: setting<string | undefined>({
      name: 'SMTP_URL',
      default: unset('unset: e-mails go to `DATA_DIR/outbox/*.eml`'),
      parse: smtpUrl,
      description: 'SMTP server, e.g. `smtps://user:password@mail.example.org:465`.',
    }),
    from: setting({ name: 'MAIL_FROM', default: 'Twofold <no-reply@localhost>', parse: mailbox, description: 'Sender of Twofold\'s e-mails: `someone@example.org` or `Name <someone@example.org>`.' }),
    outboxDir: derived(({ dataDir }) => path.join(dataDir, 'outbox')),
    pollSeconds: setting({
      name: 'OUTBOX_POLL_SECONDS',
      default: '5',
      parse: integer(1, 3600),
      description: 'How often each process looks in the mail outbox, and in the queue of logout tokens for applications, for what is due: what other processes or the command line queued, and retries. What the process queued itself is sent at once.',
    }),
    firstRetrySeconds: setting({
      name: 'OUTBOX_RETRY_SECONDS',
      default: '30',
      parse: integer(1, 3600),
      description: 'Wait before the first retry of an e-mail the mail server did not take, or of a logout token an application did not take. Each further wait is twice as long, at most an hour; after 24 hours an e-mail is marked failed and listed for site admins on `/admin/site`, and a logout token is given up on (logged).',
    }),
  },
  lockout: {
    secondFactorPerSignIn: setting({
      name: 'SECOND_FACTOR_ATTEMPTS_PER_SIGN_IN',
      default: '5',
      parse: integer(1, 100),
      description: 'Wrong passcodes or recovery codes one sign-in may send before it must start again.',
    }),
    secondFactorThreshold: setting({
      name: 'SECOND_FACTOR_LOCKOUT_THRESHOLD',
      default: '10',
      parse: integer(1, 100),
      description: 'Consecutive wrong codes that lock the account\'s second factor (NIST SP 800-63B §5.2.2 allows at most 100).',
    }),
    secondFactorMinutes: setting({
      name: 'SECOND_FACTOR_LOCKOUT_MINUTES',
      default: '15',
      parse: integer(1, 24 * 60),
      description: 'How long that lockout lasts.',
    }),
    passwordThreshold: setting({
      name: 'PASSWORD_LOCKOUT_THRESHOLD',
      default: '10',
      parse: integer(1, 100),
      description: 'Consecutive wrong passwords that pause sign-in for an email (known or not).',
    }),
    passwordMinutes: setting({
      name: 'PASSWORD_LOCKOUT_MINUTES',
      default: '15',
      parse: integer(1, 24 * 60),
      description: 'How long that pause lasts; also the window of the per-IP limit.',
    }),
    passwordPerIpPerWindow: setting({
      name: 'PASSWORD_ATTEMPTS_PER_IP',
      default: '100',
      parse: integer(1, 100_000),
      description: 'Wrong passwords one IP address may send per window.',
    }),
  },
  auditRetentionDays: setting({
    name: 'AUDIT_RETENTION_DAYS',
    default: '400',
    parse: integer(1, 36_500),
    description: 'Days the audit log keeps an event; older ones are deleted once a day.',
  }),
  rememberBrowserMaxDays: setting({
    name: 'REMEMBER_BROWSER_MAX_DAYS',
    default: '30',
    parse: integer(0, 90),
    description: 'At most this many days a browser is remembered after a second factor, whatever an organization allows; it alone decides for users no organization holds to a second factor (required by the site mode or by their own choice). 0 turns remembering off site-wide.',
  }),
} satisfies Table<Config>;

/** One setting of the table, with the `Config` field it fills (`lockout.secondFactorPerSignIn`). */
export interface Option extends Setting<unknown> {
  readonly field: string;
}

function flatten(node: Node, prefix: string): Option[] {
  if (isSetting(node)) return [{ ...node, field: prefix }];
  if (isDerived(node)) return [];
  return Object.entries(node).flatMap(([key, child]) => flatten(child, prefix ? `${prefix}.${key}` : key));
}

export const OPTIONS: readonly Option[] = flatten(SETTINGS, '');

/** The README's default column: a literal default as code, a computed one in its own words. */
export function describeDefault(option: Option): string {
  return typeof option.default === 'string' ? `\`${option.default}\`` : option.default.text;
}

function read<T>(option: Setting<T>, env: Env, context: Context): T {
  const raw = env[option.name]?.trim();
  try {
    if (raw) return option.parse(raw, context);
    return typeof option.default === 'string' ? option.parse(option.default, context) : option.default.value(context);
  } catch (error) {
    if (error instanceof InvalidValue) throw new ConfigError(option.name, error.message);
    throw error;
  }
}

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const values = new Map<Setting<unknown>, unknown>();
  const value = <T>(option: Setting<T>): T => {
    if (!values.has(option)) values.set(option, read(option, env, context));
    return values.get(option) as T;
  };
  const context: Context = {
    cwd,
    get production() {
      return value(SETTINGS.production);
    },
    get port() {
      return value(SETTINGS.port);
    },
    get dataDir() {
      return value(SETTINGS.dataDir);
    },
  };
  const resolve = (node: Node): unknown => {
    if (isSetting(node)) return Object.freeze(value(node));
    if (isDerived(node)) return Object.freeze(node.value(context));
    return Object.freeze(Object.fromEntries(Object.entries(node).map(([key, child]) => [key, resolve(child)])));
  };
  return resolve(SETTINGS) as Config;
}
