import { describe, expect, it } from '@jest/globals';
import { NO_BODY, objectSchema, validateBody } from '../../src/admin/api/schema.js';

const SCHEMA = objectSchema({
  name: { type: 'string', description: 'A name.', maxLength: 5 },
  role: { type: 'string', description: 'owner or member.', maxLength: 6, enum: ['owner', 'member'] },
  on: { type: 'boolean', description: 'On or off.' },
  days: { type: 'integer', description: 'Days.', minimum: 0, maximum: 90 },
  uris: { type: 'array', description: 'URIs.', maxItems: 2, items: { type: 'string', description: 'A URI.', maxLength: 10 } },
}, ['name']);

describe('admin API bodies against their schema', () => {
  // [body as sent (JSON text), the body let through, or the sentence refusing it]
  const cases: Array<[string, Record<string, unknown> | string]> = [
    ['{"name":"Ada"}', { name: 'Ada' }],
    ['{"name":"Ada","role":"owner","on":false,"days":0,"uris":["https://a"]}', { name: 'Ada', role: 'owner', on: false, days: 0, uris: ['https://a'] }],
    ['{"name":"Ada","days":null}', '"days" must be a whole number from 0 to 90.'],
    ['{"__proto__":{"name":"x"},"constructor":1}', 'Unknown properties "__proto__", "constructor". This endpoint takes "name", "role", "on", "days", "uris".'],
    ['{"name":"Ada","nmae":"Ada"}', 'Unknown property "nmae". This endpoint takes "name", "role", "on", "days", "uris".'],
    ['{"toString":"x","name":"Ada"}', 'Unknown property "toString". This endpoint takes "name", "role", "on", "days", "uris".'],
    ['{}', '"name" is required. A name.'],
    ['{"name":"Adalbert"}', '"name" must have at most 5 characters.'],
    ['{"name":1}', '"name" must be a string.'],
    ['{"name":"Ada","role":"king"}', '"role" must be one of "owner", "member", not "king".'],
    ['{"name":"Ada","on":"true"}', '"on" must be true or false.'],
    ['{"name":"Ada","days":91}', '"days" must be a whole number from 0 to 90.'],
    ['{"name":"Ada","days":1.5}', '"days" must be a whole number from 0 to 90.'],
    ['{"name":"Ada","days":"7"}', '"days" must be a whole number from 0 to 90.'],
    ['{"name":"Ada","uris":"https://a"}', '"uris" must be a list of strings.'],
    ['{"name":"Ada","uris":[1]}', '"uris" must be a list of strings.'],
    ['{"name":"Ada","uris":["a","b","c"]}', '"uris" may list at most 2 items.'],
    ['{"name":"Ada","uris":["https://a.example"]}', '"uris" may hold strings of at most 10 characters.'],
    ['[]', 'The body must be a JSON object.'],
    ['"text"', 'The body must be a JSON object.'],
    ['null', 'The body must be a JSON object.'],
  ];
  for (const [sent, expected] of cases) {
    it(`${sent} → ${typeof expected === 'string' ? 'refused' : 'let through'}`, () => {
      const body = JSON.parse(sent) as unknown;
      if (typeof expected === 'string') {
        expect(() => validateBody(SCHEMA, body)).toThrow(expected);
      } else {
        const checked = validateBody(SCHEMA, body);
        expect(checked).toStrictEqual(expected);
        expect(Object.getPrototypeOf(checked)).toBe(Object.prototype);
      }
    });
  }

  it('refuses any property for a route that takes no body, and lets an empty one through', () => {
    expect(validateBody(NO_BODY, {})).toStrictEqual({});
    expect(() => validateBody(NO_BODY, { force: true })).toThrow('Unknown property "force". This endpoint takes no body.');
  });

  it('names the first unknown property as the field in error', () => {
    try {
      validateBody(SCHEMA, JSON.parse('{"name":"Ada","__proto__":1}'));
      throw new Error('not refused');
    } catch (error) {
      expect((error as { field?: string }).field).toBe('__proto__');
    }
  });
});
