import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, OPTIONS, loadConfig, type Config } from '../../config/index.js';
import { README, renderConfigTable, tableInReadme, withConfigTable } from '../../scripts/config-table.js';

const KEY = Buffer.alloc(32, 7).toString('base64');
const OTHER_KEY = Buffer.alloc(32, 9).toString('base64');
const CWD = '/srv/twofold';
const PRODUCTION = { NODE_ENV: 'production', ISSUER: 'https://id.example.test', ENCRYPTION_KEY: KEY };

interface Case {
  /** A value the setting accepts, and what `loadConfig` makes of it. */
  readonly good: readonly [string, unknown];
  readonly bad: string;
  /** The value when the variable is not set (outside production). */
  readonly unset: unknown;
  /** Other variables the good value needs (a production value needs a production configuration). */
  readonly with?: Record<string, string>;
}

/** Written by hand, not derived from the table, so that a wrong default or parser in the table fails here. */
const CASES: Record<string, Case> = {
  NODE_ENV: { good: ['production', true], with: { ISSUER: 'https://id.example.test', ENCRYPTION_KEY: KEY }, bad: 'prod', unset: false },
  PORT: { good: ['8080', 8080], bad: '70000', unset: 3000 },
  HOST: { good: ['::1', '::1'], bad: 'http://0.0.0.0', unset: '127.0.0.1' },
  ISSUER: { good: ['https://id.example.test/', 'https://id.example.test'], bad: 'id.example.test', unset: 'http://localhost:3000' },
  DATA_DIR: { good: ['var/twofold', path.resolve(CWD, 'var/twofold')], bad: 'data\u0000dir', unset: path.resolve(CWD, 'data') },
  MONGODB_URI: { good: ['mongodb://db.example.test/twofold', 'mongodb://db.example.test/twofold'], bad: 'postgres://db.example.test', unset: undefined },
  TWOFOLD_DEMO: { good: ['off', false], bad: 'maybe', unset: true },
  ENCRYPTION_KEY: { good: [KEY, KEY], bad: Buffer.alloc(16).toString('base64'), unset: undefined },
  ENCRYPTION_KEYS_PREVIOUS: { good: [` ${KEY}, ${OTHER_KEY} `, [KEY, OTHER_KEY]], bad: `${KEY},nope`, unset: [] },
  PASSWORD_HASH_MEMORY_KIB: { good: ['65536', 65536], bad: '8', unset: 19456 },
  PASSWORD_HASH_ITERATIONS: { good: ['3', 3], bad: '0', unset: 2 },
  PASSWORD_HASH_PARALLELISM: { good: ['4', 4], bad: 'four', unset: 1 },
  BACKGROUND_THREAD_NICENESS: { good: ['0', 0], bad: '20', unset: 10 },
  TRUST_PROXY: { good: ['1', 1], bad: '-1', unset: 0 },
  LOG_LEVEL: { good: ['silent', 'silent'], bad: 'loud', unset: 'info' },
  METRICS_TOKEN: { good: ['a'.repeat(32), 'a'.repeat(32)], bad: 'too-short-to-be-safe', unset: undefined },
  SITE_NAME: { good: ['City of Springfield', 'City of Springfield'], bad: 'Twofold\nBcc: someone@example.test', unset: 'Twofold' },
  SMTP_URL: { good: ['smtps://mail.example.test:465', 'smtps://mail.example.test:465'], bad: 'mail.example.test', unset: undefined },
  MAIL_FROM: { good: ['Springfield <it@springfield.test>', 'Springfield <it@springfield.test>'], bad: 'no-reply', unset: 'Twofold <no-reply@localhost>' },
  OUTBOX_POLL_SECONDS: { good: ['1', 1], bad: '0', unset: 5 },
  OUTBOX_RETRY_SECONDS: { good: ['120', 120], bad: '3601', unset: 30 },
  SECOND_FACTOR_ATTEMPTS_PER_SIGN_IN: { good: ['3', 3], bad: '0', unset: 5 },
  SECOND_FACTOR_LOCKOUT_THRESHOLD: { good: ['20', 20], bad: '101', unset: 10 },
  SECOND_FACTOR_LOCKOUT_MINUTES: { good: ['60', 60], bad: '1441', unset: 15 },
  PASSWORD_LOCKOUT_THRESHOLD: { good: ['5', 5], bad: '1.5', unset: 10 },
  PASSWORD_LOCKOUT_MINUTES: { good: ['30', 30], bad: 'half an hour', unset: 15 },
  PASSWORD_ATTEMPTS_PER_IP: { good: ['1000', 1000], bad: '100001', unset: 100 },
  AUDIT_RETENTION_DAYS: { good: ['2555', 2555], bad: '0', unset: 400 },
  REMEMBER_BROWSER_MAX_DAYS: { good: ['7', 7], bad: '91', unset: 30 },
};

const fieldOf = (config: Config, field: string): unknown =>
  field.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], config);

function expectRefused(env: Record<string, string>, setting: string): void {
  expect(() => loadConfig(env, CWD)).toThrow(ConfigError);
  expect(() => loadConfig(env, CWD)).toThrow(expect.objectContaining({ setting, message: expect.stringMatching(new RegExp(`^${setting}: `)) }));
}

describe('configuration', () => {
  it('has a case below for every setting of the table, and none for a setting it does not have', () => {
    expect(Object.keys(CASES).sort()).toStrictEqual(OPTIONS.map((option) => option.name).sort());
  });

  for (const option of OPTIONS) {
    describe(`${option.name} (config.${option.field})`, () => {
      const sample = CASES[option.name];

      it('reads a good value', () => {
        const [raw, value] = sample!.good;
        expect(fieldOf(loadConfig({ ...sample!.with, [option.name]: raw }, CWD), option.field)).toStrictEqual(value);
      });

      it('refuses a bad value with an error that names it', () => {
        expectRefused({ [option.name]: sample!.bad }, option.name);
      });

      it('applies its default when unset or empty', () => {
        for (const env of [{}, { [option.name]: '' }, { [option.name]: '  ' }]) {
          expect(fieldOf(loadConfig(env, CWD), option.field)).toStrictEqual(sample!.unset);
        }
      });
    });
  }

  it('is frozen all the way down', () => {
    const config = loadConfig({ ENCRYPTION_KEYS_PREVIOUS: KEY });
    for (const part of [config, config.passwordHash, config.mail, config.lockout, config.previousEncryptionKeys]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
  });

  it('derives the issuer from PORT and the outbox from DATA_DIR', () => {
    expect(loadConfig({ PORT: '8080' }).issuer).toBe('http://localhost:8080');
    expect(loadConfig({ DATA_DIR: '/var/lib/twofold' }).mail.outboxDir).toBe(path.resolve('/var/lib/twofold/outbox'));
  });

  const invalid: Array<[string, Record<string, string>, string]> = [
    ['missing key in production', { NODE_ENV: 'production', ISSUER: 'https://id.example.test' }, 'ENCRYPTION_KEY'],
    ['missing issuer in production', { NODE_ENV: 'production', ENCRYPTION_KEY: KEY }, 'ISSUER'],
    ['http issuer in production', { ...PRODUCTION, ISSUER: 'http://id.example.test' }, 'ISSUER'],
    ['demo in production', { ...PRODUCTION, TWOFOLD_DEMO: '1' }, 'TWOFOLD_DEMO'],
    ['issuer with a query', { ISSUER: 'https://id.example.test/?x=1' }, 'ISSUER'],
    ['issuer that is not http', { ISSUER: 'ftp://id.example.test' }, 'ISSUER'],
  ];
  for (const [name, env, setting] of invalid) {
    it(`refuses ${name}, naming ${setting}`, () => {
      expectRefused(env, setting);
    });
  }

  it('accepts a complete production configuration, with the demo off and every interface bound', () => {
    const config = loadConfig(PRODUCTION);
    expect(config.production).toBe(true);
    expect(config.demo).toBe(false);
    expect(config.host).toBe('0.0.0.0');
  });
});

describe('the README\'s configuration table', () => {
  it('is the one the settings table renders', () => {
    const fix = 'the README is stale: run npm run docs:config';
    expect({ fix, table: tableInReadme(fs.readFileSync(README, 'utf8')) }).toStrictEqual({ fix, table: renderConfigTable() });
  });

  it('is rewritten between its markers only', () => {
    const readme = fs.readFileSync(README, 'utf8');
    const stale = withConfigTable(readme, '| variable | default | what it does |');
    expect(tableInReadme(stale)).toBe('| variable | default | what it does |');
    expect(withConfigTable(stale)).toBe(readme);
  });
});
