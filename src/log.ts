import { AsyncLocalStorage } from 'node:async_hooks';
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

const SECRET_NAMES: ReadonlySet<string> = new Set(SECRET_FIELDS);

/**
 * How many levels below the line's own fields are searched: `{ password }`, `{ user: { password } }`,
 * `{ req: { headers: { cookie } } }` and one level below that.
 */
const REDACTED_DEPTH = 3;

/**
 * `value` with every field named like a secret censored, at any depth down to REDACTED_DEPTH: a copy
 * of what had to change, the caller's objects untouched. One pass over the fields a line has — most
 * lines (a request's) have a handful of flat ones and are returned as they are — where matching a list
 * of paths would try every name at every depth for every line.
 */
function censored<T>(value: T, depth = 0): T {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const field = (value as Record<string, unknown>)[key];
    const kept = SECRET_NAMES.has(key) ? CENSORED : depth < REDACTED_DEPTH ? censored(field, depth + 1) : field;
    if (kept === field) continue;
    copy ??= (Array.isArray(value) ? [...value] : { ...value }) as Record<string, unknown>;
    copy[key] = kept;
  }
  return (copy ?? value) as T;
}

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
  // The fields alone, not AsyncLocalStorage.bind: that makes an async resource per call, on every request.
  const fields = requestContext.getStore();
  return fields ? (...args: A) => requestContext.run(fields, callback, ...args) : callback;
}

/** `key=value`, quoting values a reader could not tell apart otherwise. */
function plainValue(value: unknown): string {
  return typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
}

function plainLine(json: string): string {
  const { level, time: _time, message, ...fields } = JSON.parse(json) as Record<string, unknown>;
  return [String(level).toUpperCase(), message, ...Object.entries(fields).map(([key, value]) => `${key}=${plainValue(value)}`)].join(' ');
}

/** The levels in order; a logger writes its own and those after it. */
const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/**
 * The line as JSON. A caller's field that JSON cannot hold (a cycle, a BigInt) is written as text
 * rather than lose the line or throw at the caller. Only a value that contains itself is cut
 * (`[Circular]`); one object met twice side by side is written both times.
 */
function json(line: Record<string, unknown>): string {
  try {
    return JSON.stringify(line);
  } catch {
    // The objects from the line down to the value being written: JSON.stringify calls the replacer
    // with the holder as `this`, so leaving a branch shows as a holder that is no longer the last.
    const ancestors: object[] = [];
    return JSON.stringify(line, function replace(this: object, _key, value: unknown) {
      if (typeof value === 'bigint') return value.toString();
      if (typeof value !== 'object' || value === null) return value;
      while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
      if (ancestors.includes(value)) return '[Circular]';
      ancestors.push(value);
      return value;
    });
  }
}

export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  { format = 'json' }: LoggerOptions = {},
): Logger {
  const render = format === 'plain' ? plainLine : (line: string) => line;
  const lowest = level === 'silent' ? LEVELS.length : LEVELS.indexOf(level);
  // The level and time lead, then the request's fields, the message and the caller's fields; the
  // level, time and message stay what they are whatever the caller's fields are named. A line below
  // the level is not built, nor censored: it is not written.
  const at = (method: (typeof LEVELS)[number]) => {
    if (LEVELS.indexOf(method) < lowest) return () => undefined;
    return (message: string, fields?: Record<string, unknown>) => {
      const time = new Date().toISOString();
      const line: Record<string, unknown> = { level: method, time, ...requestContext.getStore(), message, ...censored(fields) };
      line.level = method;
      line.time = time;
      line.message = message;
      write(render(json(line)));
    };
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
