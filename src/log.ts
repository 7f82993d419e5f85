import { AsyncLocalStorage } from 'node:async_hooks';
import pino from 'pino';
import type { LogLevel } from '../config/index.js';

/**
 * The operator's log: one JSON object per line on stderr, with `time`, `level`, `message`, the caller's fields
 * and — while a request is handled — its `requestId`. Callers pass only what is safe to keep; fields named like
 * secrets are censored all the same, so that one careless call cannot leak a password, code or token.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  /**
   * `json` (the default) for log collectors; `plain` for a person reading a terminal, as the command line's
   * users do: `ERROR e-mail could not be sent; giving up to=ada@city.test error="connect ECONNREFUSED"`.
   */
  readonly format?: 'json' | 'plain';
}

export const CENSORED = '[redacted]';

/** Field names (camelCase, snake_case and HTTP headers) whose values the log never holds. */
const SECRET_FIELDS = [
  'password', 'newPassword', 'currentPassword', 'passwordHash', 'password_hash',
  'passcode', 'code', 'codes', 'recoveryCode', 'recoveryCodes', 'otp', 'totp',
  'secret', 'clientSecret', 'client_secret', 'totpSecret', 'encryptionKey', 'privateKey', 'pepper',
  'token', 'accessToken', 'access_token', 'refreshToken', 'refresh_token', 'idToken', 'id_token', 'code_verifier',
  'authorization', 'Authorization', 'proxy-authorization', 'cookie', 'Cookie', 'set-cookie', 'Set-Cookie',
];

/**
 * pino's redaction takes paths, not patterns, and a `*` stands for exactly one level: listing every name at
 * each depth down to this one covers `{ password }`, `{ user: { password } }`, `{ req: { headers: { cookie } } }`
 * and one level below that.
 */
const REDACTED_DEPTH = 3;

function pathsTo(name: string): string[] {
  const step = /^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `["${name}"]`;
  return Array.from({ length: REDACTED_DEPTH + 1 }, (_, depth) => `${Array(depth).fill('*').join('.')}${step}`.replace(/^\./, ''));
}

const REDACTED_PATHS = SECRET_FIELDS.flatMap(pathsTo);

const requestContext = new AsyncLocalStorage<Readonly<Record<string, unknown>>>();

/** Runs `work` with `fields` added to every line it logs, across its awaits (the request id middleware's use). */
export function withLogContext<T>(fields: Readonly<Record<string, unknown>>, work: () => T): T {
  return requestContext.run(fields, work);
}

/**
 * `callback`, bound to the fields of the request being handled now, for events that fire outside the
 * request's own calls (a response's `close`).
 */
export function inLogContext<A extends unknown[]>(callback: (...args: A) => void): (...args: A) => void {
  return AsyncLocalStorage.bind(callback);
}

/** `key=value`, quoting values a reader could not tell apart otherwise. */
function plainValue(value: unknown): string {
  return typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
}

function plainLine(json: string): string {
  const { level, time: _time, message, ...fields } = JSON.parse(json) as Record<string, unknown>;
  return [String(level).toUpperCase(), message, ...Object.entries(fields).map(([key, value]) => `${key}=${plainValue(value)}`)].join(' ');
}

export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  { format = 'json' }: LoggerOptions = {},
): Logger {
  const render = format === 'plain' ? plainLine : (json: string) => json;
  const logger = pino(
    {
      level,
      base: null,
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: CENSORED },
      // A copy: pino merges each call's fields into what the mixin returns.
      mixin: () => ({ ...requestContext.getStore() }),
    },
    { write: (line: string) => write(render(line.trimEnd())) },
  );
  // The message goes in with the fields, first, so that it leads the line (pino writes its own message argument last).
  const at = (method: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields?: Record<string, unknown>) =>
    logger[method](Object.assign({ message }, fields, { message }));
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
