import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, OPTIONS, loadConfig } from '../../config/index.js';

const KEY = Buffer.alloc(32, 7).toString('base64');

describe('configuration', () => {
  it('has working defaults outside production', () => {
    const config = loadConfig({}, '/srv/twofold');
    expect(config.port).toBe(3000);
    expect(config.issuer).toBe('http://localhost:3000');
    expect(config.dataDir).toBe(path.resolve('/srv/twofold/data'));
    expect(config.demo).toBe(true);
    expect(config.mongodbUri).toBeUndefined();
    expect(config.passwordHash).toStrictEqual({ memoryKib: 19456, iterations: 2, parallelism: 1 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('derives the issuer from PORT and trims a trailing slash from ISSUER', () => {
    expect(loadConfig({ PORT: '8080' }).issuer).toBe('http://localhost:8080');
    expect(loadConfig({ ISSUER: 'https://id.example.test/' }).issuer).toBe('https://id.example.test');
  });

  it('documents every option it reads', () => {
    const undocumented = ['PORT', 'ISSUER', 'DATA_DIR', 'MONGODB_URI', 'TWOFOLD_DEMO', 'ENCRYPTION_KEY'].filter((name) => {
      const option = OPTIONS.find((candidate) => candidate.name === name);
      return !(option?.description && option.default);
    });
    expect(undocumented).toStrictEqual([]);
  });

  const production = { NODE_ENV: 'production', ISSUER: 'https://id.example.test', ENCRYPTION_KEY: KEY };
  const invalid: Array<[string, Record<string, string>, string]> = [
    ['missing key in production', { NODE_ENV: 'production', ISSUER: 'https://id.example.test' }, 'ENCRYPTION_KEY'],
    ['missing issuer in production', { NODE_ENV: 'production', ENCRYPTION_KEY: KEY }, 'ISSUER'],
    ['http issuer in production', { ...production, ISSUER: 'http://id.example.test' }, 'ISSUER'],
    ['demo in production', { ...production, TWOFOLD_DEMO: '1' }, 'TWOFOLD_DEMO'],
    ['port out of range', { PORT: '70000' }, 'PORT'],
    ['port not a number', { PORT: 'eighty' }, 'PORT'],
    ['issuer not a URL', { ISSUER: 'id.example' }, 'ISSUER'],
    ['issuer with a query', { ISSUER: 'https://id.example.test/?x=1' }, 'ISSUER'],
    ['short encryption key', { ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') }, 'ENCRYPTION_KEY'],
    ['bad previous key', { ENCRYPTION_KEYS_PREVIOUS: `${KEY},nope` }, 'ENCRYPTION_KEYS_PREVIOUS'],
    ['bad MongoDB URI', { MONGODB_URI: 'postgres://x' }, 'MONGODB_URI'],
    ['bad demo flag', { TWOFOLD_DEMO: 'maybe' }, 'TWOFOLD_DEMO'],
    ['tiny hash memory', { PASSWORD_HASH_MEMORY_KIB: '8' }, 'PASSWORD_HASH_MEMORY_KIB'],
    ['unknown log level', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ];
  for (const [name, env, setting] of invalid) {
    it(`refuses ${name}, naming ${setting}`, () => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(expect.objectContaining({ setting, message: expect.stringMatching(new RegExp(`^${setting}: `)) }));
    });
  }

  it('accepts a complete production configuration, with the demo off', () => {
    const config = loadConfig(production);
    expect(config.production).toBe(true);
    expect(config.demo).toBe(false);
    expect(config.host).toBe('0.0.0.0');
  });
});
